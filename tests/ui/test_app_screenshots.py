"""Screenshots of realistic sessions (test-artifacts/ui/docs_*.png; the best are copied to docs/screenshots/).

Each test also checks what the picture is meant to show, so a broken window cannot pass unnoticed.
"""

from __future__ import annotations

import pytest

from core.embedded.scripted import Delay, Script
from tests.ui.app_harness import app_driver_fixture  # noqa: F401

pytestmark = pytest.mark.ui

REPLY = [
    "Here is a small function that counts words, with a test:\n\n",
    "```python\nfrom collections import Counter\n\n\n",
    "def top_words(text: str, n: int = 3) -> list[tuple[str, int]]:\n",
    '    """The n most frequent words, case-insensitive."""\n',
    "    return Counter(text.lower().split()).most_common(n)\n\n\n",
    'assert top_words("a b a c b a") == [("a", 3), ("b", 2), ("c", 1)]\n```\n\n',
    "**How it works**\n\n- `str.split()` cuts on any whitespace\n- `Counter.most_common` sorts by count\n\n",
    "Copy it with **Ctrl+Shift+C**.",
]


def _conversation(d, panel_open: bool) -> None:
    d.ready()
    for title, reply in (
        ("Plan a weekend in Lyon", ["Saturday: the old town…"]),
        ("SQL join types", ["INNER…"]),
    ):
        d.server.engine.enqueue(Script(reply))
        d.type_and_send(title)
        d.wait_reply_end()
        d.h.key("n", ["ctrl"])
    d.server.engine.enqueue(Script(REPLY))
    d.type_and_send("Write a Python function that returns the most frequent words of a text.")
    d.wait_reply_end()
    d.wait(lambda: d.last_message().status == "complete", "the reply")
    d.app.panel_open = panel_open
    d.h.settle(10)


def test_docs_light_and_dark_chat(app_driver):
    from ui.config_ui import theme

    d = app_driver
    _conversation(d, panel_open=False)
    assert d.ids.info.width == 0 and d.app.chat_view.last_code_block().startswith("from collections")
    assert len([r for r in d.ids.conv_list.rows() if r["viewclass"] == "ConvRow"]) == 3
    d.shot("docs_light")
    d.press(d.ids.theme_btn)
    d.wait(lambda: theme.name == "dark", "dark theme")
    d.shot("docs_dark")
    d.press(d.ids.theme_btn)
    d.wait(lambda: theme.name == "light", "light theme")


def test_docs_code_block_and_dev_panel(app_driver):
    d = app_driver
    _conversation(d, panel_open=True)
    d.press(d.ids.info.ids.dev_switch)
    d.h.key("l", ["ctrl"])
    d.server.engine.enqueue(Script(["Sure: `top_words(text, n=5)` returns five.", Delay(0.05)]))
    d.type_and_send("And the top five?")
    d.wait_reply_end()
    d.wait(lambda: len(d.ids.info.dev_history) >= 1 and "First token" in d.ids.info.dev_stats, "DEV figures")
    d.shot("docs_code_dev")


def test_docs_model_management(app_driver):
    d = app_driver
    _conversation(d, panel_open=True)
    info = d.ids.info
    info.ids.pull_input.text = "qwen3:0.6b"
    d.press(info.ids.pull_btn)
    d.wait(
        lambda: not info.pulling and info.pull_status and "Pulling" not in info.pull_status, "the pull answer"
    )
    d.ids.banner.hide()
    d.wait(lambda: info.ids.running_box.children, "the loaded model row")
    d.h.settle(6)
    info.children[0].scroll_y = 0  # the panel's ScrollView, at its end: models, memory, DEV
    d.h.settle(6)
    d.shot("docs_models")

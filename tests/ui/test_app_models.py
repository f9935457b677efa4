"""The info panel: model management (pull, delete, unload), per-chat options, thinking switch, DEV figures."""

from __future__ import annotations

import json

import pytest

from core.embedded.scripted import Script, Think
from tests.ui.app_harness import app_driver_fixture  # noqa: F401

pytestmark = pytest.mark.ui


def _dialog(d):
    from ui.dialogs import ConfirmDialog

    return d.wait(
        lambda: next((w for w in d.h.window.children if isinstance(w, ConfirmDialog)), None), "dialog"
    )


def test_parse_options_names_bad_values_and_keeps_good_ones():
    from ui.info_panel import human_size, parse_options

    options, errors = parse_options({"temperature": "0.3", "num_ctx": "12x", "top_p": "7", "seed": ""})
    assert options == {"temperature": 0.3}
    assert errors == ["top_p must be between 0 and 1, not 7", "num_ctx must be a whole number, not '12x'"]
    assert human_size(135_000_000) == "135 MB" and human_size(1_600_000_000) == "1.6 GB"


def test_model_picker_lists_sizes_and_pull_reports_the_server_answer(app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    assert any(v.startswith("smollm2:135m  ·  1 MB  ·  fits") for v in info.model_values)
    info.ids.pull_input.text = "qwen3:0.6b"
    d.press(info.ids.pull_btn)
    d.wait(
        lambda: not info.pulling and info.pull_status and "Pulling" not in info.pull_status, "the pull to end"
    )
    # The embedded server cannot download models: it says so, and the window shows that sentence.
    assert "pull" in info.pull_status.lower() and "qwen3:0.6b" not in info.model_names
    assert d.ids.banner.shown
    assert {"model": "qwen3:0.6b"}.items() <= (d.server.engine.bodies("/api/pull")[-1] or {}).items()
    d.shot("app_model_management")


def test_each_model_says_whether_it_fits_this_machine(app_driver):
    """The picker's entries and the model details say whether each model fits this machine (named under them:
    RAM, cores, GPU), judged from the sizes the model list gives: no /api/show per model."""
    import re

    from core.embedded.scripted import scripted_model
    from ui.config_ui import theme

    d = app_driver
    d.ready()
    info = d.ids.info
    engine = d.server.engine
    assert info.machine_text.startswith("This machine: ") and "CPU core" in info.machine_text
    assert " RAM (" in info.machine_text and ("GPU" in info.machine_text or "GiB free)" in info.machine_text)
    assert info.fit_state == "fits" and info.fit_text.startswith("Fits this machine")
    assert "needs about" in info.fit_text and list(info.ids.fit_label.color) == theme.colors["success"]
    assert info.fit_text.endswith(" Runs on the CPU: no GPU found.")  # this machine: no GPU, said in words
    assert info.ids.fit_label.height > 0 and info.ids.machine_label.height > 0  # laid out, not empty

    engine.set_models(*engine.list_models(), scripted_model("huge:405b", size=64 * 1024**4))  # 64 TiB
    d.press(info.ids.refresh_btn)
    d.wait(lambda: "huge:405b" in info.model_names, "the new model in the picker")
    huge = info.model_values[info.model_names.index("huge:405b")]
    assert re.fullmatch(r"huge:405b  ·  70\.4 TB  ·  too large for \d+ GiB RAM", huge), huge
    d.press(info.ids.picker)  # open the list: every entry with its verdict
    dropdown = info.ids.picker._dropdown
    entry = d.wait(lambda: next((w for w in dropdown.container.children if w.text == huge), None), "entry")
    verdicts = {w.text.split("  ·  ")[0]: w.text.rsplit("  ·  ", 1)[-1] for w in dropdown.container.children}
    assert verdicts["smollm2:135m"].startswith("fits") and verdicts["huge:405b"].startswith("too large")
    d.shot("app_model_fit_list")
    asked_before = [b["model"] for b in engine.bodies("/api/show")]
    assert "huge:405b" not in asked_before  # listed and judged from its size alone, no details asked
    d.press(entry)
    d.wait(lambda: info.fit_state == "no", "the verdict of the chosen model")
    assert info.ids.picker.text == "huge:405b  ·  70.4 TB"  # the verdict is said in full just below
    fit = info.fit_text
    assert fit.startswith("Does not fit: needs about") and "more than this machine's" in fit
    d.h.settle(4)
    assert list(info.ids.fit_label.color) == theme.colors["danger"]
    details_asked = [b["model"] for b in engine.bodies("/api/show")[len(asked_before) :]]
    assert details_asked and set(details_asked) == {"huge:405b"}  # the chosen model's details, once chosen
    d.shot("app_model_fit")


def test_delete_model_asks_then_sends_delete(app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    d.press(info.ids.delete_model_btn)
    dialog = _dialog(d)
    assert "smollm2:135m" in dialog.message
    d.press(dialog.ids.cancel_btn)
    d.wait(lambda: dialog not in d.h.window.children, "the dialog to close")
    assert d.server.engine.bodies("/api/delete") == []
    d.press(info.ids.delete_model_btn)
    d.press(_dialog(d).ids.confirm_btn)
    d.wait(lambda: d.server.engine.bodies("/api/delete"), "the DELETE request")
    # The server deletes it (the scripted engine forgets the model): it leaves the picker.
    d.wait(lambda: "smollm2:135m" not in info.model_names, "the model to leave the picker")
    assert info.pull_status == "Deleted smollm2:135m."
    d.wait(lambda: d.app.model and d.app.model != "smollm2:135m", "another model selected")


def test_running_models_show_memory_and_unload(app_driver):
    from ui.info_panel import RunningRow

    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["Loaded."]))
    d.type_and_send("load the model")
    d.wait_reply_end()
    info = d.ids.info
    row = d.wait(
        lambda: next((w for w in info.ids.running_box.children if isinstance(w, RunningRow)), None), "row"
    )
    assert row.name.startswith("smollm2:135m") and "MB" in row.memory
    unload = next(w for w in row.walk() if getattr(w, "text", "") == "Unload")
    d.press(unload)
    d.wait(lambda: not info.ids.running_box.children, "the model to be unloaded")
    assert info.running_text == "No model is loaded in memory."
    assert d.server.engine.loaded() == []


def test_chat_options_apply_and_bad_values_are_named(app_driver):
    d = app_driver
    d.ready()
    d.server.engine.enqueue(Script(["First."]), Script(["Second."]))
    d.type_and_send("first")
    d.wait_reply_end()
    info = d.ids.info
    info.ids.opt_temperature.text = "0.3"
    info.ids.opt_num_ctx.text = "12x"
    info.ids.system_input.text = "You answer in French."
    d.press(info.ids.apply_btn)
    assert info.options_error == "num_ctx must be a whole number, not '12x'."
    assert info.ids.opt_num_ctx.text == "12x", "the wrong value stays in its box to be fixed"
    d.wait(lambda: d.app.conv.options == {"temperature": 0.3}, "the option on the conversation")
    d.ids.conv_list.focus_search()
    d.h.key("l", ["ctrl"])  # Ctrl+L brings the keyboard back to the message box
    d.type_and_send("second")
    d.wait_reply_end()
    body = d.server.engine.bodies("/api/chat")[-1]
    assert body["options"]["temperature"] == 0.3
    assert body["messages"][0] == {"role": "system", "content": "You answer in French."}
    saved = (d.home / "sav" / d.app.conv.slug / "conversation.md").read_text(encoding="utf-8")
    assert "You answer in French." in saved


def test_thinking_switch_only_for_models_that_think(app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    assert not info.can_think and info.ids.think_switch.disabled
    info.ids.picker.text = info.model_values[info.model_names.index("thinker:latest")]
    d.wait(lambda: info.can_think, "the thinking switch for a thinking model")
    assert not info.ids.think_switch.disabled
    d.press(info.ids.think_switch)
    d.press(info.ids.apply_btn)
    d.server.engine.enqueue(Script([Think("Let me see."), "Four."]))
    d.type_and_send("2+2?")
    d.wait_reply_end()
    assert d.server.engine.bodies("/api/chat")[-1]["think"] is True
    assert d.last_message().thinking == "Let me see." and d.last_message().content == "Four."
    info.ids.picker.text = info.model_values[info.model_names.index("smollm2:135m")]
    d.wait(lambda: not info.can_think and d.app.settings.think is None, "thinking off for a model without it")


def test_dev_mode_shows_last_reply_figures_and_chart(app_driver):
    d = app_driver
    d.ready()
    info = d.ids.info
    d.press(info.ids.dev_switch)
    d.wait(lambda: info.dev_mode and d.app.settings.dev_mode, "DEV mode on")
    d.h.key("l", ["ctrl"])
    for n in range(3):
        d.server.engine.enqueue(Script([f"Reply {n} ", "with", " a few", " tokens."]))
        d.type_and_send(f"message {n}")
        d.wait_reply_end()
    d.wait(lambda: len(info.dev_history) == 3, "three speeds in the chart")
    assert "First token" in info.dev_stats and "tokens/s" in info.dev_stats and "Total" in info.dev_stats
    assert info.ids.chart.height > 0 and len(info.ids.chart.canvas.children) > 3
    records = [
        json.loads(line) for line in (d.home / "data" / "dev_responses.jsonl").read_text().splitlines()
    ]
    assert len(records) == 3 and all(r["model"] == "smollm2:135m" for r in records)
    assert "dev_mode = true" in (d.home / "config.toml").read_text(encoding="utf-8")
    info.parent.parent.scroll_y = 0  # the ScrollView: show the DEV section
    d.shot("app_dev_mode")


def test_pull_shows_real_progress_then_the_model_is_installed(app_driver):
    """A pull answered with Ollama's progress lines (§8 of the API: manifest, per-layer byte counts, verifying,
    success): the bar moves with the bytes received, the status names the step, and the new model joins
    the picker."""
    from core.embedded.scripted_pull import Layer, PullScript

    d = app_driver
    d.ready()
    info = d.ids.info
    d.server.engine.enqueue_pull(PullScript([Layer(40_000_000, parts=8, pace=0.15), Layer(2_000, parts=1)]))
    info.ids.pull_input.text = "tinyllama:latest"
    d.press(info.ids.pull_btn)
    d.wait(
        lambda: info.pulling and 0.2 < info.pull_fraction < 1.0, "the bar part-way through the first layer"
    )
    assert info.ids.pull_bar.value == info.pull_fraction and info.ids.pull_bar.opacity == 1
    assert info.ids.pull_btn.text == "Cancel"
    assert "tinyllama:latest" in info.pull_status and " of 40.0 MB (" in info.pull_status
    scroller = info.ids.pull_label.parent
    while not hasattr(scroller, "scroll_to"):
        scroller = scroller.parent
    scroller.scroll_to(info.ids.pull_label, padding=40, animate=False)
    d.shot("app_pull_progress")
    d.wait(lambda: not info.pulling, "the pull to end", timeout=30)
    assert info.pull_status == "tinyllama:latest is ready."
    d.wait(lambda: "tinyllama:latest" in info.model_names, "the pulled model in the picker")
    assert d.server.engine.wait_pull_end().finished


def test_pull_cancel_stops_the_download_on_the_server(app_driver):
    from core.embedded.scripted_pull import Layer, PullScript

    d = app_driver
    d.ready()
    info = d.ids.info
    d.server.engine.enqueue_pull(PullScript([Layer(900_000_000, parts=60, pace=0.2)]))
    info.ids.pull_input.text = "llama3.2:1b"
    d.press(info.ids.pull_btn)
    d.wait(lambda: info.pulling and info.pull_fraction > 0, "progress")
    d.press(info.ids.pull_btn)  # now labelled Cancel
    d.wait(lambda: not info.pulling, "the pull to stop")
    assert info.pull_status == "Pull of llama3.2:1b cancelled."
    record = d.server.engine.wait_pull_end()
    assert record.stopped_by_cancel and not record.finished
    assert "llama3.2:1b" not in info.model_names
    assert info.ids.pull_btn.text == "Pull"


def test_ctrl_f_focuses_the_search_box_like_ctrl_k(app_driver):
    d = app_driver
    d.ready()
    search = d.ids.conv_list.ids.search
    d.wait(lambda: d.app.input_bar.ids.input.focus, "the message box to have focus first")
    d.h.key("f", ["ctrl"])
    d.wait(lambda: search.focus, "the search box to take focus (Ctrl+F)")
    assert not d.app.input_bar.ids.input.focus
    d.h.type_text("x")
    assert search.text == "x"


def test_the_app_starts_in_dev_mode_when_it_was_left_in_it(
    kivy_harness, scripted_server, ia_home, monkeypatch
):
    """DEV mode saved in config.toml (or IA_DEV=1): the switch is on at start, and building the window does not
    call back into the app before it has a root (it raised AttributeError and the app did not start)."""
    from tests.ui.app_harness import make_app, start, stop

    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    w, h = kivy_harness.window.size
    (ia_home / "config.toml").write_text(
        f"dev_mode = true\n[ui]\nwidth = {w}\nheight = {h}\n", encoding="utf-8"
    )
    app = make_app()
    start(app, kivy_harness)
    try:
        info = app.root.ids.info
        kivy_harness.wait_until(lambda: app.backend_status == "ready", message="ready")
        assert info.dev_mode and info.ids.dev_switch.active and app.settings.dev_mode
    finally:
        stop(app, kivy_harness)

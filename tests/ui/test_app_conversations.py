"""The conversation list and window memory: new chat, open, inline rename, delete, search, reopen last."""

from __future__ import annotations

from datetime import date

import pytest

from core.embedded.scripted import Script
from tests.ui.app_harness import app_driver_fixture, keep_window_size, make_app, start, stop  # noqa: F401

pytestmark = pytest.mark.ui


def _row_widget(d, slug):
    from ui.conversation_list import ConvRow

    for child in d.ids.conv_list.ids.rv.children[0].children:
        if isinstance(child, ConvRow) and child.slug == slug:
            return child
    return None


def _chat(d, text, reply):
    d.server.engine.enqueue(Script([reply]))
    d.type_and_send(text)
    d.wait_reply_end()
    d.wait(lambda: d.last_message().content == reply, f"reply {reply!r}")
    # The list is refreshed when the message is sent and again when the reply ends: wait for the second.
    slug, count = d.app.conv.slug, len(d.app.conv.messages)
    d.wait(
        lambda: any(
            r.get("slug") == slug and f"{count} messages" in r["subtitle"] for r in d.ids.conv_list.rows()
        ),
        "the list to count the reply",
    )
    d.h.settle(3)
    return slug


def test_day_labels_and_groups():
    from ui.conversation_list import day_label

    today = date(2026, 11, 24)
    assert day_label(today, today) == "Today"
    assert day_label(date(2026, 11, 23), today) == "Yesterday"
    assert day_label(date(2026, 11, 20), today) == "Friday"
    assert day_label(date(2026, 3, 2), today) == "2 March"
    assert day_label(date(2025, 3, 2), today) == "2 March 2025"


def test_new_chat_open_and_switch_with_ctrl_n(app_driver):
    d = app_driver
    d.ready()
    first = _chat(d, "first topic", "Answer one.")
    d.h.key("n", ["ctrl"])
    d.wait(lambda: d.app.conv is None and not d.app.chat_view.messages, "an empty new chat")
    assert d.app.conversation_title == "New chat"
    d.wait(lambda: d.app.input_bar.ids.input.focus, "focus in the input")
    second = _chat(d, "second topic", "Answer two.")
    assert first != second
    d.wait(lambda: len([r for r in d.ids.conv_list.rows() if r["viewclass"] == "ConvRow"]) == 2, "two rows")
    rows = [r for r in d.ids.conv_list.rows() if r["viewclass"] == "ConvRow"]
    assert [r["slug"] for r in rows] == [second, first], "newest first"
    assert d.ids.conv_list.rows()[0] == {
        **d.ids.conv_list.rows()[0],
        "viewclass": "ConvHeader",
        "text": "Today",
    }
    d.h.click(_row_widget(d, first))
    d.wait(lambda: d.app.conv is not None and d.app.conv.slug == first, "the first chat to open")
    assert [m.content for m in d.app.chat_view.messages] == ["first topic", "Answer one."]
    assert "first topic" in d.app.title


def test_inline_rename_changes_title_and_file(app_driver):
    d = app_driver
    d.ready()
    slug = _chat(d, "untitled thoughts", "Sure.")
    row = d.wait(lambda: _row_widget(d, slug), "the row")
    d.h.click(row.ids.rename_btn)
    editor = row.ids.editor
    d.wait(lambda: editor.focus and row.editing, "the inline editor")
    editor.text = ""
    d.h.type_text("Project plan")
    d.h.key("enter")
    d.wait(lambda: d.app.conversation_title == "Project plan", "the new title")
    new_slug = d.app.conv.slug
    assert (d.home / "sav" / new_slug / "conversation.md").is_file()
    assert "Project plan" in (d.home / "sav" / new_slug / "conversation.md").read_text(encoding="utf-8")
    d.wait(lambda: any(r.get("title") == "Project plan" for r in d.ids.conv_list.rows()), "renamed row")
    assert "Project plan" in d.app.title


def test_delete_asks_first_and_removes_the_conversation(app_driver):
    from ui.dialogs import ConfirmDialog

    d = app_driver
    d.ready()
    slug = _chat(d, "to be deleted", "Bye.")
    row = d.wait(lambda: _row_widget(d, slug), "the row")
    d.h.click(row.ids.delete_btn)
    dialog = d.wait(
        lambda: next((w for w in d.h.window.children if isinstance(w, ConfirmDialog)), None), "dialog"
    )
    d.shot("app_delete_confirm")
    d.h.click(dialog.ids.cancel_btn)
    assert (d.home / "sav" / slug).is_dir(), "cancel keeps the conversation"
    # the dialog closes with a short animation; a click before it is gone lands on it
    d.wait(lambda: not any(isinstance(w, ConfirmDialog) for w in d.h.window.children), "the dialog to close")
    d.h.click(row.ids.delete_btn)
    dialog = d.wait(
        lambda: next((w for w in d.h.window.children if isinstance(w, ConfirmDialog)), None), "dialog"
    )
    d.h.click(dialog.ids.confirm_btn)
    d.wait(lambda: not (d.home / "sav" / slug).exists(), "the folder to be removed")
    d.wait(lambda: not any(r.get("slug") == slug for r in d.ids.conv_list.rows()), "the row to go")
    assert d.app.conv is None and d.app.conversation_title == "New chat"


def test_search_filters_by_title_and_full_text(app_driver):
    d = app_driver
    d.ready()
    _chat(d, "cooking pasta", "Boil water, add salt.")
    d.h.key("n", ["ctrl"])
    _chat(d, "astronomy", "The zebrafish question is about Jupiter moons.")
    d.h.key("k", ["ctrl"])
    search = d.ids.conv_list.ids.search
    d.wait(lambda: search.focus, "the search box to take focus (Ctrl+K)")
    d.h.type_text("pasta")
    d.wait(
        lambda: (
            [r.get("title") for r in d.ids.conv_list.rows() if r["viewclass"] == "ConvRow"]
            == ["cooking pasta"]
        ),
        "title hit",
    )
    search.text = ""
    d.h.type_text("zebrafish")
    d.wait(
        lambda: (
            [r.get("title") for r in d.ids.conv_list.rows() if r["viewclass"] == "ConvRow"] == ["astronomy"]
        ),
        "the full-text hit (text only in a reply)",
        timeout=8,
    )
    hit = next(r for r in d.ids.conv_list.rows() if r["viewclass"] == "ConvRow")
    assert "zebrafish" in hit["subtitle"].lower()
    search.text = ""
    d.h.type_text("nothing-like-this")
    d.wait(
        lambda: d.ids.conv_list.rows()[0]["text"].startswith("No conversation matches"), "the empty result"
    )
    d.ids.conv_list.clear_search()
    d.wait(
        lambda: len([r for r in d.ids.conv_list.rows() if r["viewclass"] == "ConvRow"]) == 2, "all rows back"
    )


def test_reopening_shows_last_conversation_size_and_theme(
    kivy_harness, scripted_server, ia_home, monkeypatch
):
    from ui.config_ui import theme

    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    keep_window_size(ia_home, kivy_harness)
    app = make_app()
    start(app, kivy_harness)
    try:
        kivy_harness.wait_until(lambda: app.backend_status == "ready" and app.model, message="ready")
        scripted_server.engine.enqueue(Script(["Remember me."]))
        kivy_harness.wait_until(lambda: app.input_bar.ids.input.focus, message="focus")
        kivy_harness.type_text("keep this one")
        kivy_harness.key("enter")
        kivy_harness.wait_until(lambda: not app.streaming and app.conv is not None, message="reply")
        kivy_harness.wait_until(lambda: app.chat_view.messages[-1].content == "Remember me.", message="reply")
        slug = app.conv.slug
        size = tuple(kivy_harness.window.size)
        app.toggle_theme()
        assert theme.name == "dark"
    finally:
        stop(app, kivy_harness)
    theme.name = "light"  # what a fresh process would have before reading the settings
    config = (ia_home / "config.toml").read_text(encoding="utf-8")
    assert 'theme = "dark"' in config and f'last_conversation = "{slug}"' in config
    assert f"width = {size[0]}" in config and f"height = {size[1]}" in config
    again = make_app()
    start(again, kivy_harness)
    try:
        kivy_harness.wait_until(
            lambda: again.conv is not None and again.conv.slug == slug, message="reopened"
        )
        assert theme.name == "dark"
        assert tuple(kivy_harness.window.size) == size
        kivy_harness.wait_until(lambda: again.chat_view.messages, message="messages shown")
        assert [m.content for m in again.chat_view.messages] == ["keep this one", "Remember me."]
    finally:
        stop(again, kivy_harness)
        theme.name = "light"


def test_build_rows_groups_by_day_newest_first():
    from datetime import UTC, datetime, timedelta

    from core.search_index import SessionInfo
    from ui.conversation_list import build_rows

    now = datetime.now(UTC)
    infos = [
        SessionInfo("a", "Older", now - timedelta(days=3), now - timedelta(days=3), "", 2, ""),
        SessionInfo("b", "Newest", now, now, "m", 4, ""),
        SessionInfo("c", "Yesterday's", now - timedelta(days=1), now - timedelta(days=1), "", 1, ""),
    ]
    rows = build_rows(infos, current="c")
    kinds = [(r["viewclass"], r.get("text") or r.get("title")) for r in rows]
    assert kinds[0] == ("ConvHeader", "Today") and kinds[1] == ("ConvRow", "Newest")
    assert kinds[2] == ("ConvHeader", "Yesterday") and kinds[3] == ("ConvRow", "Yesterday's")
    assert kinds[5] == ("ConvRow", "Older")
    assert [r["slug"] for r in rows if r.get("selected")] == ["c"]


def test_window_size_from_settings_is_bounded():
    from ui.app import DEFAULT_SIZE, MIN_SIZE, window_size

    assert window_size({"width": 1100, "height": 700}) == (1100, 700)
    assert window_size({}) == DEFAULT_SIZE
    assert window_size({"width": 10, "height": 10}) == MIN_SIZE
    assert window_size({"width": "wide", "height": None}) == DEFAULT_SIZE

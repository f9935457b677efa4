"""The context meter above the message box, on the real window: estimated for Ollama ("≈"), counted by the
embedded server's tokenizer (/api/tokenize) for IA_V3's own backend, debounced while typing, counted on a
worker, against num_ctx or the model's context length."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from core.context_meter import chat_messages, estimate_tokens
from core.embedded.scripted import Script
from tests.ui.app_harness import AppDriver, app_driver_fixture, keep_window_size, make_app, start, stop  # noqa: F401

pytestmark = pytest.mark.ui


@pytest.fixture
def embedded_app(kivy_harness, scripted_embedded_server, ia_home, monkeypatch) -> Iterator[AppDriver]:
    """The app on a scripted server that says it is IA_V3's embedded backend (so it has /api/tokenize)."""
    monkeypatch.setenv("OLLAMA_HOST", scripted_embedded_server.url)
    keep_window_size(ia_home, kivy_harness)
    app = make_app()
    start(app, kivy_harness)
    d = AppDriver(app=app, h=kivy_harness, home=ia_home)
    d.server = scripted_embedded_server  # type: ignore[attr-defined]
    try:
        yield d
    finally:
        stop(app, kivy_harness)


def _tokenize_requests(d) -> list:
    return [r for r in d.server.engine.requests if r.path == "/api/tokenize"]


def test_ollama_gets_an_estimate_that_follows_the_draft(app_driver):
    d = app_driver
    d.ready()
    meter, watch = d.app.context_meter, d.app.context_watch
    assert d.app.controller.backend.kind == "ollama"
    d.wait(lambda: meter.text, "the meter of the empty chat")
    draft = "Tell me about the history of the city of Lyon, briefly"
    d.wait(lambda: d.app.input_bar.ids.input.focus, "the message box to have the keyboard")
    d.h.type_text(draft)
    expected = estimate_tokens(chat_messages("", [], draft))
    d.wait(lambda: meter.text == f"Context ≈ {expected:,} / 4,096 tokens · 0 %", "the estimate of the draft")
    assert meter.exact == "estimated" and meter.level == "ok"
    assert not _tokenize_requests(d)  # Ollama has no tokenize call: nothing is asked of it
    d.shot("app_context_meter_estimate")
    # After a reply the history counts too.
    d.server.engine.enqueue(Script(["Lyon was founded by the Romans as Lugdunum in 43 BC."]))
    d.h.key("enter")
    d.wait_reply_end()
    history = [(m.role, m.content) for m in d.app.conv.messages]
    expected = estimate_tokens(chat_messages("", history, ""))
    d.wait(
        lambda: meter.text.startswith(f"Context ≈ {expected:,} / 4,096"), "the estimate of the conversation"
    )
    # num_ctx set for this chat is the limit; more than it turns the meter red and says so.
    d.ids.info.dispatch("on_chat_settings", "", {"num_ctx": 256}, False)
    d.h.type_text("word " * 300)
    d.wait(lambda: meter.level == "over", "the meter to be over the 256 tokens of num_ctx")
    assert "/ 256 tokens" in meter.text and "over the context: the oldest messages" in meter.text
    assert watch.counted <= watch.asked  # a count that came back after a newer one was asked is dropped
    d.shot("app_context_meter_over")


def test_the_embedded_server_counts_debounced_while_typing(embedded_app):
    d = embedded_app
    d.ready()
    meter = d.app.context_meter
    assert d.app.controller.backend.kind == "embedded"
    d.wait(lambda: meter.text == "Context 0 / 4,096 tokens · 0 %", "the exact meter of the empty chat")
    d.wait(lambda: d.app.input_bar.ids.input.focus, "the message box to have the keyboard")
    before = len(_tokenize_requests(d))
    words = "one two three four five six seven eight nine ten"
    for ch in words:  # a person typing: one character a frame, faster than the debounce delay
        d.h.type_text(ch)
    d.wait(
        lambda: meter.text == "Context 10 / 4,096 tokens · 0 %", "the scripted tokenizer's count (its words)"
    )
    assert meter.exact == "counted" and "≈" not in meter.text
    full = {"model": "smollm2:135m", "messages": [{"role": "user", "content": words}]}
    d.wait(lambda: _tokenize_requests(d)[-1].body == full, "the count of the whole draft")
    time.sleep(0.6)
    d.h.settle(5)
    asked = _tokenize_requests(d)[before:]
    # One count per pause in typing (a slow frame on a busy machine may make one more): never one per key.
    assert len(asked) <= 5, f"{len(asked)} counts for {len(words)} keys: not debounced"
    assert asked[-1].body == full and meter.text == "Context 10 / 4,096 tokens · 0 %"
    d.shot("app_context_meter_counted")


def test_a_slow_count_never_holds_the_window(embedded_app):
    """The server takes 2 s to count: frames keep coming and typing lands meanwhile; the count shows after."""
    d = embedded_app
    d.ready()
    meter = d.app.context_meter
    d.wait(lambda: meter.text.startswith("Context 0 /"), "the meter of the empty chat")
    d.server.engine.count_delay_s = 2.0
    box = d.app.input_bar.ids.input
    d.wait(lambda: box.focus, "the message box to have the keyboard")
    d.h.type_text("alpha beta")
    slowest, started = 0.0, time.monotonic()
    while time.monotonic() - started < 1.5:  # the debounce ends after 0.35 s, then the server counts for 2 s
        before = time.monotonic()
        d.h.frames(1)
        slowest = max(slowest, time.monotonic() - before)
    assert _tokenize_requests(d)[-1].body["messages"] == [{"role": "user", "content": "alpha beta"}]
    assert slowest < 0.5, f"a frame took {slowest:.2f} s while the server counted"
    assert meter.text.startswith("Context 0 /")  # not counted yet: the server is still at it
    d.h.type_text(" gamma")
    assert box.text == "alpha beta gamma"
    d.wait(lambda: meter.text == "Context 3 / 4,096 tokens · 0 %", "the slow count of the whole draft", 15)

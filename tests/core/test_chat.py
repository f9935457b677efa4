"""ChatService and ChatTurn against the real embedded server with a scripted engine and real files."""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest

from config import Settings, load_settings
from core.backend import Backend, connect
from core.chat import STOPPED_BY_USER, ChatService, ChatTurn
from core.conversation import Conversation
from core.devlog import DevLog
from core.embedded.scripted import Delay, Drop, ErrorBefore, ErrorLine, MalformedLine, Script, Stall, Think
from core.errors import IAError, ModelNotFound, ServerError, StreamBroken, StreamStalled
from core.ollama_client import ContentChunk, FinalChunk, ThinkingChunk
from core.sav_manager import read_conversation
from core.session_manager import SessionManager

MODEL = "smollm2:135m"


def wait_until(condition: Callable[[], object], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not met in time")
        time.sleep(0.01)


@dataclass
class Env:
    settings: Settings
    backend: Backend
    sessions: SessionManager
    service: ChatService
    engine: object

    def conv(self, title: str = "test chat", **kwargs: object) -> Conversation:
        return self.sessions.create(title, **kwargs)  # type: ignore[arg-type]

    def on_disk(self, conv: Conversation) -> Conversation:
        return read_conversation(self.sessions.session_dir(conv) / "conversation.md")

    def chat_bodies(self) -> list[dict]:
        return self.engine.bodies("/api/chat")  # type: ignore[attr-defined]


@pytest.fixture
def make_env(scripted_server, monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Env]]:
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    made: list[Env] = []

    def make(**overrides: object) -> Env:
        settings = load_settings()
        for key, value in overrides.items():
            setattr(settings, key, value)
        backend = connect(settings)
        sessions = SessionManager(settings)
        env = Env(
            settings, backend, sessions, ChatService(settings, backend, sessions), scripted_server.engine
        )
        made.append(env)
        return env

    yield make
    for env in made:
        env.backend.close()
        env.sessions.close()


@pytest.fixture
def env(make_env: Callable[..., Env]) -> Env:
    return make_env()


def test_send_streams_the_reply_and_saves_it_complete_with_stats(env: Env) -> None:
    env.engine.enqueue(Script(["Hi", " there", "!"]))
    conv = env.conv()
    turn = env.service.send(conv, "Hello?", model=MODEL)
    chunks = list(turn)
    assert [c.text for c in chunks if isinstance(c, ContentChunk)] == ["Hi", " there", "!"]
    assert isinstance(chunks[-1], FinalChunk)
    assert turn.error is None and turn.stats is not None and turn.stats.eval_count == 3
    saved = env.on_disk(conv)
    assert [(m.role, m.content, m.status) for m in saved.messages] == [
        ("user", "Hello?", "complete"),
        ("assistant", "Hi there!", "complete"),
    ]
    assert saved.messages[1].model == MODEL
    assert saved.messages[1].stats["eval_count"] == 3


def test_user_message_is_on_disk_before_the_request_is_sent(env: Env) -> None:
    conv = env.conv()
    turn = env.service.send(conv, "saved first", model=MODEL)
    assert env.chat_bodies() == []
    assert [m.content for m in env.on_disk(conv).messages] == ["saved first"]
    list(turn)
    assert len(env.chat_bodies()) == 1


def test_model_resolution_prefers_argument_then_conversation_then_settings(make_env) -> None:
    env = make_env(model="gemma3:270m")
    assert env.service.resolve_model(env.conv()) == "gemma3:270m"
    assert env.service.resolve_model(env.conv(model="thinker:latest")) == "thinker:latest"
    assert env.service.resolve_model(env.conv(model="thinker:latest"), "vision:latest") == "vision:latest"


def test_without_any_model_setting_the_first_installed_model_is_used(env: Env) -> None:
    installed = [m.name for m in env.backend.client.list_models()]
    turn = env.service.send(env.conv(), "hi")
    list(turn)
    assert turn.error is None
    assert turn.model == installed[0]
    assert env.chat_bodies()[0]["model"] == installed[0]


def test_code_blocks_of_the_reply_are_saved_as_files(env: Env) -> None:
    env.engine.enqueue(Script(["Here:\n\n```python\n", "print('hi')\n", "```\n"]))
    conv = env.conv()
    turn = env.service.send(conv, "code please", model=MODEL)
    list(turn)
    assert [p.name for p in turn.code_files] == ["code_1.py"]
    assert turn.code_files[0].read_text() == "print('hi')\n"


def test_context_holds_system_prompt_and_last_exchanges_only(make_env) -> None:
    env = make_env(context_exchanges=1)
    conv = env.conv(system_prompt="Be brief.")
    for n in range(3):
        env.engine.enqueue(Script([f"answer {n}"]))
        list(env.service.send(conv, f"question {n}", model=MODEL))
    last = env.chat_bodies()[-1]["messages"]
    assert [(m["role"], m["content"]) for m in last] == [
        ("system", "Be brief."),
        ("user", "question 1"),
        ("assistant", "answer 1"),
        ("user", "question 2"),
    ]


def test_options_of_settings_and_conversation_reach_the_server(make_env) -> None:
    env = make_env(options={"temperature": 0.1, "seed": 7}, keep_alive="1m")
    conv = env.conv(options={"temperature": 0.5})
    list(env.service.send(conv, "hi", model=MODEL))
    body = env.chat_bodies()[0]
    assert body["options"]["temperature"] == 0.5
    assert body["options"]["seed"] == 7
    assert body["keep_alive"] == "1m"


def test_thinking_is_streamed_and_saved(make_env) -> None:
    env = make_env(think=True)
    env.engine.enqueue(Script([Think("let me see"), "42"]))
    conv = env.conv()
    turn = env.service.send(conv, "answer?", model="thinker:latest")
    chunks = list(turn)
    assert any(isinstance(c, ThinkingChunk) for c in chunks)
    saved = env.on_disk(conv).messages[-1]
    assert (saved.thinking, saved.content) == ("let me see", "42")


def test_image_is_attached_and_sent_as_base64(env: Env, tmp_path: Path) -> None:
    png = tmp_path / "dot.png"
    png.write_bytes(
        base64.b64decode(
            "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
        )
    )
    conv = env.conv()
    list(env.service.send(conv, "what is this?", images=[png], model="vision:latest"))
    sent = env.chat_bodies()[0]["messages"][-1]
    assert base64.b64decode(sent["images"][0]) == png.read_bytes()
    assert env.on_disk(conv).messages[0].images[0].startswith("attachments/")


def _iterate_in_thread(turn: ChatTurn) -> tuple[threading.Thread, list]:
    seen: list = []
    thread = threading.Thread(target=lambda: seen.extend(turn), daemon=True)
    thread.start()
    return thread, seen


def test_cancel_from_another_thread_stops_the_server_and_keeps_the_partial_reply(env: Env) -> None:
    env.engine.enqueue(Script(["partial ", Delay(30), "never"]))
    conv = env.conv()
    turn = env.service.send(conv, "long story", model=MODEL)
    thread, seen = _iterate_in_thread(turn)
    wait_until(lambda: any(isinstance(c, ContentChunk) for c in seen))
    turn.cancel()
    thread.join(10)
    assert not thread.is_alive()
    assert env.engine.wait_generation_end().stopped_by_cancel
    assert turn.cancelled and turn.error is None and turn.done
    reply = env.on_disk(conv).messages[-1]
    assert (reply.content, reply.status, reply.error) == ("partial ", "interrupted", STOPPED_BY_USER)


def test_cancel_before_iterating_sends_nothing_to_generate(env: Env) -> None:
    conv = env.conv()
    turn = env.service.send(conv, "never mind", model=MODEL)
    turn.cancel()
    assert list(turn) == []
    assert turn.cancelled
    assert env.on_disk(conv).messages[-1].status == "interrupted"


def test_caller_that_stops_iterating_counts_as_a_cancel(env: Env) -> None:
    env.engine.enqueue(Script(["one ", Delay(30), "two"]))
    conv = env.conv()
    turn = env.service.send(conv, "q", model=MODEL)
    gen = iter(turn)
    assert isinstance(next(gen), ContentChunk)
    gen.close()
    assert turn.cancelled
    assert env.engine.wait_generation_end().stopped_by_cancel
    assert env.on_disk(conv).messages[-1].status == "interrupted"


@pytest.mark.parametrize(
    ("steps", "error_type"),
    [
        ([ErrorBefore(500, "model runner crashed")], ServerError),
        (["part", ErrorLine("an error was encountered while running the model")], StreamBroken),
        (["part", MalformedLine("{not json")], StreamBroken),
        (["part", Drop()], StreamBroken),
    ],
    ids=["500-before-output", "error-line-mid-stream", "malformed-line", "dropped-connection"],
)
def test_faults_land_on_turn_error_and_the_next_request_works(env: Env, steps, error_type) -> None:
    env.engine.enqueue(Script(steps))
    conv = env.conv()
    turn = env.service.send(conv, "first", model=MODEL)
    list(turn)  # never raises: the error is on the turn
    assert isinstance(turn.error, error_type)
    saved = env.on_disk(conv)
    assert saved.messages[0].content == "first"
    reply = saved.messages[1]
    if "part" in steps:
        assert (reply.content, reply.status) == ("part", "interrupted")
    else:
        assert (reply.content, reply.status) == ("", "error")
    assert reply.error == str(turn.error)
    env.engine.enqueue(Script(["fine"]))
    again = env.service.send(conv, "second", model=MODEL)
    list(again)
    assert again.error is None and again.text == "fine"
    # the failed reply has no content, or is partial: the context still carries both user messages
    assert env.chat_bodies()[-1]["messages"][-1]["content"] == "second"


def test_stall_between_chunks_is_reported_and_the_partial_reply_kept(make_env) -> None:
    env = make_env(stall_timeout=0.5)
    env.engine.enqueue(Script(["slow", Stall(20)]))
    conv = env.conv()
    turn = env.service.send(conv, "hello", model=MODEL)
    list(turn)
    assert isinstance(turn.error, StreamStalled)
    assert env.on_disk(conv).messages[-1].content == "slow"


def test_unknown_model_without_fallback_is_model_not_found(env: Env) -> None:
    conv = env.conv()
    turn = env.service.send(conv, "hi", model="nosuch:1b")
    list(turn)
    assert isinstance(turn.error, ModelNotFound)
    assert env.on_disk(conv).messages[-1].status == "error"


def test_fallback_model_answers_when_the_first_is_missing(make_env) -> None:
    env = make_env(fallback_models=["gemma3:270m"])
    env.engine.enqueue(Script(["from gemma"]))
    conv = env.conv()
    turn = env.service.send(conv, "hi", model="nosuch:1b")
    list(turn)
    assert turn.error is None
    assert turn.model == "gemma3:270m"
    assert any("nosuch:1b" in note for note in turn.notes)
    assert env.on_disk(conv).messages[-1].model == "gemma3:270m"


def test_regenerate_replaces_the_last_reply(env: Env) -> None:
    env.engine.enqueue(Script(["first answer"]), Script(["second answer"]))
    conv = env.conv()
    list(env.service.send(conv, "question", model=MODEL))
    turn = env.service.regenerate(conv, model=MODEL)
    list(turn)
    assert turn.error is None
    saved = env.on_disk(conv)
    assert [(m.role, m.content) for m in saved.messages] == [
        ("user", "question"),
        ("assistant", "second answer"),
    ]
    assert [m["content"] for m in env.chat_bodies()[-1]["messages"]] == ["question"]


def test_regenerate_with_nothing_to_answer_says_so(env: Env) -> None:
    turn = env.service.regenerate(env.conv(), model=MODEL)
    assert list(turn) == []
    assert isinstance(turn.error, IAError) and "nothing to regenerate" in str(turn.error)


def test_dev_mode_records_every_request_including_failed_ones(make_env) -> None:
    env = make_env(dev_mode=True)
    env.engine.enqueue(Script(["ok"]), Script([ErrorBefore(500, "boom")]))
    conv = env.conv()
    list(env.service.send(conv, "one", model=MODEL))
    list(env.service.send(conv, "two", model=MODEL))
    records = DevLog(env.settings).read()
    assert len(records) == 2
    assert records[0].error is None and records[0].reply_chars == 2 and records[0].model == MODEL
    assert records[0].session == conv.slug and records[0].eval_count == 1
    assert records[0].host == env.backend.host and records[0].done_reason == "stop"
    assert records[0].prompt_chars == len("one")
    assert records[0].ttft_s is not None and records[0].total_s >= records[0].ttft_s
    assert records[0].gen_tps and records[0].prompt_tps and records[0].load_s is not None
    assert records[1].error and "boom" in records[1].error
    assert records[1].prompt_chars == len("one") + len("ok") + len("two") and records[1].total_s is not None
    readable = (env.settings.data_dir / "dev_responses.log").read_text("utf-8").splitlines()
    assert len(readable) == 2 and "boom" in readable[1]


def test_dev_records_are_not_written_outside_dev_mode(env: Env) -> None:
    list(env.service.send(env.conv(), "one", model=MODEL))
    assert DevLog(env.settings).read() == []


def test_session_log_records_both_sides(env: Env) -> None:
    env.engine.enqueue(Script(["logged reply"]))
    conv = env.conv()
    list(env.service.send(conv, "logged question", model=MODEL))
    text = (env.settings.logs_dir / f"{conv.slug}.log").read_text("utf-8")
    assert "logged question" in text and "logged reply" in text


def test_a_user_message_that_cannot_be_saved_is_not_sent(env: Env) -> None:
    from core.errors import StorageError

    conv = env.conv()
    path = env.sessions.session_dir(conv) / "conversation.md"
    path.unlink()
    path.mkdir()  # the file cannot be written any more
    turn = env.service.send(conv, "lost?", model=MODEL)
    assert isinstance(turn.error, StorageError)
    assert turn.user_message is None and turn.done
    assert list(turn) == []
    assert env.chat_bodies() == []


KILLED_CHILD = """
import sys
sys.path.insert(0, {repo!r})
from config import load_settings
from core.backend import connect
from core.chat import ChatService
from core.session_manager import SessionManager
settings = load_settings()
settings.save_throttle_s = 0.05
sessions = SessionManager(settings)
service = ChatService(settings, connect(settings), sessions)
turn = service.send(sessions.create("Killed mid stream"), "Tell me a long story", model={model!r})
for chunk in turn:
    print(type(chunk).__name__, flush=True)
"""


def test_sigkill_mid_stream_leaves_the_prompt_and_the_partial_reply_on_disk(
    scripted_server, ia_home: Path
) -> None:
    import os
    import signal
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    scripted_server.engine.enqueue(Script(["Once upon ", "a time, ", Delay(60), "never sent"]))
    env = dict(os.environ, OLLAMA_HOST=scripted_server.url, IA_HOME=str(ia_home), IA_EMBEDDED="off")
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_CHILD.format(repo=str(repo), model=MODEL)],
        env=env,
        stdout=subprocess.PIPE,
    )
    path = ia_home / "sav" / "killed-mid-stream" / "conversation.md"
    try:
        wait_until(lambda: path.is_file() and "a time, " in path.read_text(encoding="utf-8"))
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    on_disk = read_conversation(path)  # the file parses: never half written
    assert [(m.role, m.content, m.status) for m in on_disk.messages] == [
        ("user", "Tell me a long story", "complete"),
        ("assistant", "Once upon a time, ", "streaming"),
    ]
    sessions = SessionManager(load_settings())
    reply = sessions.load("Killed mid stream").messages[-1]
    assert (reply.status, reply.content) == ("interrupted", "Once upon a time, ")
    assert "⚠️ interrupted" not in path.read_text(encoding="utf-8")  # loading never rewrites the file
    assert scripted_server.engine.wait_generation_end().stopped_by_cancel  # the dead client's socket closed
    sessions.close()


def test_context_never_exceeds_what_num_ctx_allows(make_env) -> None:
    env = make_env(options={"num_ctx": 500, "num_predict": 100})  # 400 tokens for the prompt (~4 chars each)
    conv = env.conv(system_prompt="Be brief.")
    for n in range(4):
        env.engine.enqueue(Script([f"answer {n} " + "x" * 400]))
        list(env.service.send(conv, f"question {n} " + "y" * 400, model=MODEL))
    sent = env.chat_bodies()[-1]["messages"]
    assert sent[0] == {"role": "system", "content": "Be brief."}
    assert [m["content"].split()[:2] for m in sent[1:]] == [
        ["question", "2"],
        ["answer", "2"],
        ["question", "3"],
    ]
    assert sum(len(m["content"]) for m in sent) // 4 <= 400  # one more exchange would not fit


def test_format_reaches_every_request(env: Env) -> None:
    schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
    conv = env.conv(model=MODEL)
    for fmt in ("json", schema, None):
        env.service.format = fmt
        turn = env.service.send(conv, "answer")
        list(turn)
        assert turn.error is None
    first, second, third = env.chat_bodies()
    assert first["format"] == "json" and second["format"] == schema and "format" not in third


def test_an_unsaved_exchange_streams_with_context_and_images_and_writes_nothing(
    make_env, tmp_path: Path, ia_home: Path
) -> None:
    from PIL import Image

    env = make_env(dev_mode=True)
    conv = env.conv("kept", model="vision:latest")
    list(env.service.send(conv, "first"))
    before = {p: p.read_bytes() for p in ia_home.rglob("*") if p.is_file()}
    picture = tmp_path / "red.png"
    Image.new("RGB", (2, 2), "red").save(picture)
    env.engine.enqueue(Script(["Here:\n```python\nprint(2)\n```\n"]))
    turn = env.service.send(conv, "second", images=[picture, b"\x89PNG\r\n\x1a\nraw"], save=False)
    chunks = list(turn)
    assert turn.error is None and isinstance(chunks[-1], FinalChunk)
    assert turn.message is not None and turn.message.status == "complete" and turn.stats is not None
    assert turn.code_files == []
    assert [m.content for m in conv.messages][-2:] == ["second", "Here:\n```python\nprint(2)\n```\n"]
    sent = env.chat_bodies()[-1]["messages"]
    assert [m["content"] for m in sent] == ["first", "Hello from the scripted engine.", "second"]
    assert [base64.b64decode(i) for i in sent[-1]["images"]] == [
        picture.read_bytes(),
        b"\x89PNG\r\n\x1a\nraw",
    ]
    assert {p: p.read_bytes() for p in ia_home.rglob("*") if p.is_file()} == before
    assert len(env.on_disk(conv).messages) == 2


def test_an_unsaved_exchange_that_fails_keeps_the_partial_reply_in_memory(env: Env, ia_home: Path) -> None:
    env.engine.enqueue(Script(["Half an ans", ErrorLine("an error was encountered while running the model")]))
    conv = Conversation(title="t", slug="", created=datetime.now(UTC), updated=datetime.now(UTC), model=MODEL)
    turn = env.service.send(conv, "hello", save=False)
    list(turn)
    assert isinstance(turn.error, StreamBroken)
    assert (turn.message.content, turn.message.status) == ("Half an ans", "interrupted")
    assert list(ia_home.iterdir()) == []

"""The controller without any widget: work on worker threads, results handed back through `post`."""

from __future__ import annotations

import queue
import threading
import time

import pytest

from config import load_settings
from core.errors import ModelNotFound, ServerUnreachable, StorageWriteError, StreamBroken
from ui.controller import Controller, describe_error


class MainLoop:
    """Stands in for Kivy's Clock: `post` queues callbacks, `run_until` runs them on the test's thread."""

    def __init__(self) -> None:
        self.calls: queue.Queue = queue.Queue()
        self.thread = threading.get_ident()
        self.ran_on: set[int] = set()

    def post(self, fn) -> None:
        self.calls.put(fn)

    def run_until(self, condition, timeout: float = 15.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if time.monotonic() > deadline:
                raise AssertionError("timed out")
            try:
                fn = self.calls.get(timeout=0.05)
            except queue.Empty:
                continue
            self.ran_on.add(threading.get_ident())
            fn()


@pytest.fixture
def loop_and_controller(scripted_server, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", scripted_server.url)
    loop = MainLoop()
    controller = Controller(load_settings(), post=loop.post)
    yield loop, controller
    controller.close()


def test_connect_and_list_models_report_on_the_posting_thread(loop_and_controller):
    loop, controller = loop_and_controller
    seen: dict = {}
    controller.connect(lambda backend, error: seen.update(backend=backend, error=error))
    assert controller.status == "connecting"
    loop.run_until(lambda: "backend" in seen)
    assert seen["error"] is None and seen["backend"].kind == "ollama" and controller.status == "ready"
    controller.list_models(lambda infos: seen.update(models=[i.name for i in infos]), seen.update)
    loop.run_until(lambda: "models" in seen)
    assert "smollm2:135m" in seen["models"]
    assert loop.ran_on == {loop.thread}, "callbacks run only where post delivers them"


def test_connect_failure_is_reported_not_raised(monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    loop = MainLoop()
    controller = Controller(load_settings(), post=loop.post)
    seen: dict = {}
    controller.connect(lambda backend, error: seen.update(backend=backend, error=error))
    loop.run_until(lambda: "error" in seen)
    assert seen["backend"] is None and isinstance(seen["error"], ServerUnreachable)
    assert controller.status == "offline"
    controller.close()


def test_pull_reports_the_servers_answer_once(loop_and_controller):
    loop, controller = loop_and_controller
    done: list = []
    controller.connect(lambda *_: None)
    loop.run_until(lambda: controller.backend is not None)
    controller.pull(
        "no-such-model:1b", lambda p: None, lambda error, cancelled: done.append((error, cancelled))
    )
    loop.run_until(lambda: done)
    error, cancelled = done[0]
    assert error is not None and not cancelled and len(done) == 1


def test_describe_error_offers_the_right_action():
    assert describe_error(ServerUnreachable("http://x:1")).action == "reconnect"
    assert describe_error(ModelNotFound("m")).action == "pull"
    assert describe_error(StreamBroken("dropped")).action == "regenerate"
    assert describe_error(StorageWriteError("/x", "disk full")).action == ""
    unexpected = describe_error(ValueError("boom"))
    assert "ValueError: boom" in unexpected.message and "keeps working" in unexpected.message

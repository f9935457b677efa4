"""The runner against the real embedded server with a scripted engine: known replies give known results."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from core.benchmark.runner import BenchmarkRun, RunSpec
from core.benchmark.store import find_run
from core.embedded.scripted import Delay, ErrorLine, Script, ScriptedEngine
from core.embedded.server import EmbeddedServer
from core.errors import BenchmarkError, ModelNotFound
from core.ollama_client import OllamaClient

PROBLEMS = [
    {
        "task_id": "t/add",
        "prompt": 'def add(a: int, b: int) -> int:\n    """Return a + b."""\n',
        "entry_point": "add",
        "canonical_solution": "    return a + b\n",
        "test": "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n",
        "tier": "easy",
    },
    {
        "task_id": "t/even",
        "prompt": 'def is_even(n: int) -> bool:\n    """True when n is even."""\n',
        "entry_point": "is_even",
        "canonical_solution": "    return n % 2 == 0\n",
        "test": "def check(candidate):\n    assert candidate(4) is True\n    assert candidate(3) is False\n",
        "tier": "medium",
    },
]
GOOD_ADD = "Here it is:\n```python\ndef add(a: int, b: int) -> int:\n    return a + b\n```\n"
BAD_EVEN = "```python\ndef is_even(n: int) -> bool:\n    return False\n```"
BOTH_GOOD = "```python\ndef add(a, b):\n    return a + b\n\ndef is_even(n):\n    return n % 2 == 0\n```"


def wait_until(cond: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.02)


@pytest.fixture
def problems_file(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS), encoding="utf-8")
    return path


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _run(url: str, home: Path, problems: Path, **spec) -> BenchmarkRun:
    spec.setdefault("model", "smollm2:135m")
    spec.setdefault("options", {"temperature": 0.0, "num_predict": 64})
    return BenchmarkRun(RunSpec(suite=str(problems), **spec), [OllamaClient(url)], home, backend="embedded")


def test_known_replies_give_known_results_and_stats(
    scripted_server, ia_home: Path, problems_file: Path
) -> None:
    scripted_server.engine.enqueue(Script([GOOD_ADD[:20], GOOD_ADD[20:]]), Script([BAD_EVEN]))
    run = _run(scripted_server.url, ia_home, problems_file)
    outcome = run.execute()
    assert outcome.status == "complete" and outcome.generated == 2 and outcome.total == 2

    store = outcome.store
    assert (
        store.dir.parent.name == "smollm2_135m" and store.dir.parent.parent == ia_home / "data" / "generated"
    )
    samples = {s["task_id"]: s for s in _lines(store.samples)}
    add = samples["t/add"]
    assert "return a + b" in add["completion"] and add["raw"] == GOOD_ADD
    assert add["done_reason"] == "stop" and add["ttft_s"] > 0 and add["total_s"] >= add["ttft_s"]
    assert add["eval_count"] and add["gen_tps"] and add["host"] == scripted_server.url
    assert add["rss_mb"] and add["cpu_percent"] is not None  # in-process server: measured with psutil
    assert (store.dir / add["code_file"]).read_text(encoding="utf-8") == PROBLEMS[0]["prompt"] + add[
        "completion"
    ]

    results = {r["task_id"]: r for r in _lines(store.results)}
    assert results["t/add"]["passed"] is True and results["t/even"]["passed"] is False
    summary = json.loads(store.summary.read_text(encoding="utf-8"))
    assert summary["pass_at_k"]["1"]["value"] == 0.5
    assert 0 <= summary["pass_at_k"]["1"]["low"] < 0.5 < summary["pass_at_k"]["1"]["high"] <= 1
    assert summary["per_tier"]["easy"]["pass@1"] == 1.0 and summary["per_tier"]["medium"]["pass@1"] == 0.0
    assert summary["per_problem"]["t/add"] == {"tier": "easy", "n": 1, "passed": 1, "pass@1": 1.0,
                                               "entry_point": "add", "reasons": {}}  # fmt: skip
    assert summary["per_problem"]["t/even"]["reasons"] == {"assertion": 1}
    assert summary["speed"]["gen_tps"]["median"] > 0 and summary["sandbox"]

    info = json.loads(store.run_json.read_text(encoding="utf-8"))
    digest = scripted_server.engine.find("smollm2:135m").digest
    assert info["digest"] == digest and info["backend_version"] and info["status"] == "complete"
    chat = scripted_server.engine.bodies("/api/chat")
    assert chat[0]["options"] == {"temperature": 0.0, "num_predict": 64}
    assert PROBLEMS[0]["prompt"] in chat[0]["messages"][0]["content"]


def test_complete_style_sends_raw_prompt_with_stop_sequences(scripted_server, ia_home, problems_file) -> None:
    scripted_server.engine.enqueue(Script(["    return a + b\n"]), Script(["    return n % 2 == 1\n"]))
    outcome = _run(
        scripted_server.url, ia_home, problems_file, model="gemma3:270m", style="complete"
    ).execute()
    assert outcome.status == "complete"
    body = scripted_server.engine.bodies("/api/generate")[0]
    assert body["raw"] is True and body["prompt"] == PROBLEMS[0]["prompt"]
    assert "\ndef " in body["options"]["stop"] and body["options"]["num_predict"] == 64
    results = {r["task_id"]: r["passed"] for r in _lines(outcome.store.results)}
    assert results == {"t/add": True, "t/even": False}


def test_the_token_limit_reaches_the_extraction(scripted_server, ia_home, problems_file) -> None:
    """The same open-fence reply: ended by the model ("stop"), its last line is whole and kept; ended by the
    token limit ("length"), that line is unfinished and dropped, so the sample fails."""
    open_fence = "```python\ndef add(a: int, b: int) -> int:\n    return a + b"
    even = "```python\ndef is_even(n: int) -> bool:\n    return n % 2 == 0"
    scripted_server.engine.enqueue(Script([open_fence]), Script([even], done_reason="length"))
    outcome = _run(scripted_server.url, ia_home, problems_file).execute()
    samples = {s["task_id"]: s for s in _lines(outcome.store.samples)}
    assert samples["t/add"]["done_reason"] == "stop" and "return a + b" in samples["t/add"]["completion"]
    assert samples["t/even"]["done_reason"] == "length" and "return" not in samples["t/even"]["completion"]
    results = {r["task_id"]: r["passed"] for r in _lines(outcome.store.results)}
    assert results == {"t/add": True, "t/even": False}


def test_resume_skips_finished_samples(scripted_server, ia_home, problems_file) -> None:
    engine = scripted_server.engine
    engine.enqueue(Script([GOOD_ADD]))
    run = _run(scripted_server.url, ia_home, problems_file, n=2)
    run.on_progress = lambda done, total, sample: run.cancel() if sample is not None else None
    first = run.execute()
    assert first.status == "interrupted" and first.generated == 1
    assert len(_lines(first.store.samples)) == 1
    assert json.loads(first.store.run_json.read_text())["status"] == "interrupted"

    engine.enqueue(Script([GOOD_ADD]), Script([BAD_EVEN]), Script([BAD_EVEN]))
    before = len(engine.bodies("/api/chat"))
    resumed = BenchmarkRun.resume(first.info.run_id, [OllamaClient(scripted_server.url)], ia_home)
    assert resumed.store.dir == first.store.dir
    second = resumed.execute()
    assert second.status == "complete" and second.generated == 3 and second.total == 4
    assert len(engine.bodies("/api/chat")) - before == 3
    samples = _lines(second.store.samples)
    assert sorted((s["task_id"], s["sample_index"]) for s in samples) == [
        ("t/add", 0), ("t/add", 1), ("t/even", 0), ("t/even", 1),
    ]  # fmt: skip
    summary = json.loads(second.store.summary.read_text())
    assert summary["pass_at_k"]["1"]["value"] == 0.5 and set(summary["pass_at_k"]) == {"1"}
    assert summary["per_problem"]["t/add"]["passed"] == 2


def test_cancel_mid_stream_leaves_consistent_samples(scripted_server, ia_home, problems_file) -> None:
    engine = scripted_server.engine
    engine.enqueue(Script([GOOD_ADD]), Script(["```python\n", Delay(30), "def is_even(n): ..."]))
    run = _run(scripted_server.url, ia_home, problems_file)
    outcomes = []
    worker = threading.Thread(target=lambda: outcomes.append(run.execute()))
    worker.start()
    wait_until(lambda: len(engine.generations) == 2 and engine.generations[1].pieces >= 1)
    run.cancel()
    worker.join(timeout=20)
    assert not worker.is_alive()
    outcome = outcomes[0]
    assert outcome.status == "interrupted" and outcome.generated == 1
    assert engine.wait_generation_end().stopped_by_cancel
    lines = outcome.store.samples.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["task_id"] == "t/add"
    assert not outcome.store.results.exists() and not outcome.store.summary.exists()


def test_stream_error_is_recorded_then_retried_on_resume(scripted_server, ia_home, problems_file) -> None:
    engine = scripted_server.engine
    engine.enqueue(Script([GOOD_ADD]), Script(["```python\n", ErrorLine("model crashed")]))
    run = _run(scripted_server.url, ia_home, problems_file)
    outcome = run.execute()
    assert outcome.status == "interrupted"  # one sample failed: the run is not complete
    failed = [s for s in _lines(outcome.store.samples) if s["error"]]
    assert len(failed) == 1 and "model crashed" in failed[0]["error"] and failed[0]["completion"] == ""
    engine.enqueue(Script([BAD_EVEN]))
    again = BenchmarkRun.resume(outcome.info.run_id, [OllamaClient(scripted_server.url)], ia_home).execute()
    assert again.status == "complete" and again.generated == 1
    assert again.summary.errors == 0 and again.summary.samples == 2


def test_several_hosts_share_the_work(ia_home, problems_file) -> None:
    engines = [ScriptedEngine(default_reply=[Delay(0.1), BOTH_GOOD]) for _ in range(2)]
    servers = [EmbeddedServer(e) for e in engines]
    urls = [s.start() for s in servers]
    try:
        spec = RunSpec(model="smollm2:135m", suite=str(problems_file), n=4, options={"temperature": 0.0})
        run = BenchmarkRun(spec, [OllamaClient(u) for u in urls], ia_home)
        outcome = run.execute()
    finally:
        for s in servers:
            s.stop()
    assert outcome.status == "complete" and outcome.generated == 8
    per_host = [len(e.bodies("/api/chat")) for e in engines]
    assert sum(per_host) == 8 and min(per_host) >= 1
    samples = _lines(outcome.store.samples)
    assert {s["host"] for s in samples} == set(urls)
    assert len({(s["task_id"], s["sample_index"]) for s in samples}) == 8
    assert outcome.summary.pass1.value == 1.0 and outcome.info.hosts == urls


def test_a_dead_host_leaves_its_work_to_the_others(scripted_server, ia_home, problems_file) -> None:
    scripted_server.engine.default_reply = [BOTH_GOOD]
    spec = RunSpec(model="smollm2:135m", suite=str(problems_file), n=2)
    clients = [OllamaClient(scripted_server.url), OllamaClient("http://127.0.0.1:9", connect_timeout=0.5)]
    outcome = BenchmarkRun(spec, clients, ia_home).execute()
    assert outcome.status == "complete" and outcome.generated == 4
    assert {s["host"] for s in _lines(outcome.store.samples)} == {scripted_server.url}


def test_missing_model_is_reported_before_anything_is_written(
    scripted_server, ia_home, problems_file
) -> None:
    with pytest.raises(ModelNotFound, match="'nope'"):
        _run(scripted_server.url, ia_home, problems_file, model="nope")
    assert not (ia_home / "data" / "generated").exists()


def test_bad_spec_and_unknown_run_are_clear(scripted_server, ia_home, problems_file) -> None:
    with pytest.raises(BenchmarkError, match="Unknown style"):
        RunSpec(model="m", style="poem")
    with pytest.raises(BenchmarkError, match="No benchmark run 'zzz'"):
        find_run(ia_home, "zzz")


@pytest.mark.model
@pytest.mark.parametrize(("model", "style"), [("gemma3:270m", "complete"), ("smollm2:135m", "chat")])
def test_real_embedded_model_is_deterministic_at_temperature_0(
    embedded_server, ia_home, model, style
) -> None:
    """Two runs on the real llama.cpp backend at temperature 0 give the same code and the same verdicts."""
    outcomes = []
    for _ in range(2):
        spec = RunSpec(model=model, suite="ia_basic", style=style, limit=2,
                       options={"temperature": 0.0, "seed": 0, "num_predict": 48})  # fmt: skip
        outcomes.append(
            BenchmarkRun(spec, [OllamaClient(embedded_server.url)], ia_home, backend="embedded").execute()
        )
    assert [o.status for o in outcomes] == ["complete", "complete"]
    assert outcomes[0].store.dir != outcomes[1].store.dir
    first, second = (_lines(o.store.results) for o in outcomes)
    assert [(r["task_id"], r["completion"], r["passed"]) for r in first] == [
        (r["task_id"], r["completion"], r["passed"]) for r in second
    ]
    assert all(r["eval_count"] and r["gen_tps"] > 0 and r["ttft_s"] > 0 for r in first)
    assert outcomes[0].summary.pass_at_k == outcomes[1].summary.pass_at_k
    assert outcomes[0].info.key == outcomes[1].info.key  # same model digest, backend version and options


def test_hosts_with_different_builds_of_the_model_are_refused(
    scripted_server, ia_home, problems_file
) -> None:
    from core.embedded.scripted import scripted_model

    other = ScriptedEngine()
    other.set_models(scripted_model("smollm2:135m", size=2), scripted_model("x"))
    other.models[0].digest = "f" * 64
    server = EmbeddedServer(other)
    url = server.start()
    try:
        spec = RunSpec(model="smollm2:135m", suite=str(problems_file))
        with pytest.raises(BenchmarkError, match="another build of 'smollm2:135m'"):
            BenchmarkRun(spec, [OllamaClient(scripted_server.url), OllamaClient(url)], ia_home)
        other.set_models(scripted_model("x"))
        with pytest.raises(ModelNotFound):
            BenchmarkRun(spec, [OllamaClient(scripted_server.url), OllamaClient(url)], ia_home)
    finally:
        server.stop()


def test_a_model_that_cannot_do_the_style_stops_the_run(scripted_server, ia_home, problems_file) -> None:
    from core.embedded.scripted import scripted_model

    scripted_server.engine.set_models(scripted_model("embedder", capabilities=("embedding",)))
    outcome = _run(scripted_server.url, ia_home, problems_file, model="embedder").execute()
    assert outcome.status == "failed" and outcome.generated == 0
    assert "does not support" in str(outcome.error)
    assert len(scripted_server.engine.bodies("/api/chat")) == 1  # no retry of every problem

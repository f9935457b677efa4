"""`python main_benchmark.py run --hosts URL/v1`: a benchmark on an OpenAI-compatible server writes the usual
reports, labelled with the backend, so the same model can be compared across Ollama, the embedded backend and
llama-server. The acceptance run is on llama-cpp-python's real server; the stand-in adds what it lacks
(usage, hence tokens/s) and a run of the same model on an Ollama-protocol server beside it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

import main_benchmark
from benchcli import display
from core.benchmark.store import safe_name
from tests.benchmark.test_runner import BOTH_GOOD, PROBLEMS


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    display.console.width = 220
    display.err_console.width = 220


@pytest.fixture
def problems_file(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS), encoding="utf-8")
    return path


def _run_dir(home: Path, model: str) -> Path:
    (run,) = (home / "data" / "generated" / safe_name(model)).iterdir()
    return run


@pytest.mark.model
@pytest.mark.timeout(1800)
def test_a_run_on_llama_cpp_python_openai_server_writes_the_usual_reports(
    llama_openai_server, ia_home, capsys
):
    model = llama_openai_server.model
    code = main_benchmark.main(
        ["run", "--hosts", llama_openai_server.url, "--model", model, "--limit", "2", "--num-predict", "160"]
    )
    out = capsys.readouterr().out
    assert code == 0, out
    assert f"Using {llama_openai_server.url} (openai)" in out
    assert "tok/s not reported (the server sent no token counts)" in " ".join(out.split())

    run = _run_dir(ia_home, model)
    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    assert summary["backend"] == "openai" and summary["backend_version"].startswith("llama-cpp-python 0.")
    assert summary["hosts"] == [llama_openai_server.url] and summary["samples"] == 2
    assert summary["pass_at_k"]["1"]["method"]  # scored in the sandbox like any run
    samples = [json.loads(line) for line in (run / "samples.jsonl").read_text(encoding="utf-8").splitlines()]
    assert all(s["ttft_s"] > 0 and s["gen_tps"] is None and s["raw"] for s in samples)

    bench = ia_home / "data" / "benchmarks"
    (report,) = bench.glob("report_*.md")
    text = report.read_text(encoding="utf-8")
    label = f"{model} (chat, first 2, openai)"
    assert label in text and "openai llama-cpp-python 0." in text  # the run's label and its Backend column
    assert f"tok/s not reported for {label}" in text
    assert label in (bench / "leaderboard.md").read_text(encoding="utf-8")
    (xlsx,) = bench.glob("report_*.xlsx")
    runs = load_workbook(xlsx)["Runs"]
    header = [c.value for c in runs[1]]
    row = [c.value for c in runs[2]]
    assert row[0] == label and row[header.index("Backend")].startswith("openai llama-cpp-python")
    for csv_file in bench.glob("report_*_speed.csv"):
        assert label in csv_file.read_text(encoding="utf-8")


def test_the_same_model_on_ollama_and_on_an_openai_server_are_two_rows(
    scripted_server, openai_stand_in, ia_home, problems_file, capsys
):
    """One GGUF served twice (here: the name smollm2:135m on an Ollama-protocol server and on an
    OpenAI-compatible one): two rows everywhere, told apart by their labels; tokens/s from usage."""
    scripted_server.engine.default_reply = [BOTH_GOOD]
    openai_stand_in.models = ["smollm2:135m"]
    openai_stand_in.reply = [BOTH_GOOD[i : i + 7] for i in range(0, len(BOTH_GOOD), 7)]
    openai_stand_in.delay_s = 0.01
    for host in (scripted_server.url, openai_stand_in.url):
        assert (
            main_benchmark.main(
                ["run", "--hosts", host, "--model", "smollm2:135m", "--problems", str(problems_file)]
            )
            == 0
        )
    out = capsys.readouterr().out
    assert "smollm2:135m: pass@1 100.0%" in out and " tok/s median" in out
    board = (ia_home / "data" / "benchmarks" / "leaderboard.md").read_text(encoding="utf-8")
    assert "smollm2:135m (chat, openai)" in board and "smollm2:135m (chat) " in board
    (openai_run,) = [
        json.loads((d / "summary.json").read_text(encoding="utf-8"))
        for d in (ia_home / "data" / "generated" / "smollm2_135m").iterdir()
        if json.loads((d / "run.json").read_text(encoding="utf-8"))["backend"] == "openai"
    ]
    assert openai_run["speed"]["gen_tps"]["median"] > 0  # from usage.completion_tokens over measured time
    body = openai_stand_in.bodies("/v1/chat/completions")[0]
    assert body["max_tokens"] == 256 and body["temperature"] == 0.0  # the benchmark's options, translated


def test_a_complete_style_run_uses_the_completions_endpoint(openai_stand_in, ia_home, problems_file, capsys):
    openai_stand_in.models = ["base-model"]
    openai_stand_in.reply = ["    return a + b\n"]
    code = main_benchmark.main(
        ["run", "--hosts", openai_stand_in.url, "--model", "base-model", "--problems", str(problems_file),
         "--style", "complete", "--limit", "1"]
    )  # fmt: skip
    assert code == 0, capsys.readouterr().out
    (body,) = openai_stand_in.bodies("/v1/completions")
    assert body["prompt"] == PROBLEMS[0]["prompt"] and "\ndef " in body["stop"]


def test_unreachable_openai_host_is_named(ia_home, capsys):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    code = main_benchmark.main(["run", "--hosts", f"http://127.0.0.1:{port}/v1", "--model", "m"])
    captured = capsys.readouterr()
    assert code == 3
    assert f"Cannot reach the OpenAI-compatible server at http://127.0.0.1:{port}/v1" in " ".join(
        (captured.out + captured.err).split()
    )

"""main_benchmark.py end to end against the scripted server: run, resume after Ctrl-C, report, compare, list."""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from openpyxl import load_workbook

import main_benchmark
from benchcli import display
from core.embedded.scripted import Delay, Script
from tests.benchmark.test_runner import BAD_EVEN, BOTH_GOOD, GOOD_ADD, PROBLEMS, wait_until

ROOT = Path(__file__).resolve().parents[2]


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


def _run(url: str, problems: Path, *extra: str) -> int:
    return main_benchmark.main(["run", "--hosts", url, "--problems", str(problems), *extra])


def test_two_models_end_up_side_by_side_in_one_leaderboard(
    scripted_server, ia_home, problems_file, capsys
) -> None:
    engine = scripted_server.engine
    engine.enqueue(Script([GOOD_ADD]), Script([BAD_EVEN]))
    assert _run(scripted_server.url, problems_file, "--model", "smollm2:135m") == 0
    engine.enqueue(Script(["    return a + b\n"]), Script(["    return n % 2 == 0\n"]))
    assert _run(scripted_server.url, problems_file, "--model", "gemma3:270m", "--style", "complete") == 0
    out = capsys.readouterr().out
    assert "smollm2:135m: pass@1 50.0%" in out and "gemma3:270m: pass@1 100.0%" in out

    bench = ia_home / "data" / "benchmarks"
    board = (bench / "leaderboard.md").read_text(encoding="utf-8")
    assert board.index("gemma3:270m (complete)") < board.index("smollm2:135m (chat)")
    rows = load_workbook(bench / "leaderboard.xlsx")["Runs"]
    assert [rows.cell(r, 1).value for r in (2, 3)] == ["gemma3:270m (complete)", "smollm2:135m (chat)"]
    for png in ("leaderboard_speed_vs_pass.png", "leaderboard_pass_map.png"):
        assert (bench / png).stat().st_size > 10_000
    assert len(list(bench.glob("report_*.md"))) >= 1

    assert main_benchmark.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "smollm2:135m" in listing and "gemma3:270m" in listing and "complete" in listing

    assert main_benchmark.main(["compare", "smollm2:135m", "gemma3:270m"]) == 0
    compared = " ".join(capsys.readouterr().out.split())
    assert "50.0 [" in compared and "100.0 [15.8, 100.0]" in compared  # 2 of 2 problems: never [100, 100]
    # a paired test over the 2 shared problems (1 solved by gemma only), not "intervals overlap"
    assert (
        "no significant difference between smollm2:135m (chat) and gemma3:270m (complete) at pass@1: "
        "smollm2:135m (chat) - gemma3:270m (complete) = -50.0 points" in compared
    ), compared
    assert "exact McNemar test on 2 shared problems (0 vs 1 discordant)" in compared
    assert "Intervals: Clopper-Pearson" in compared and "intervals overlap" not in compared


def test_report_rescores_and_rewrites(scripted_server, ia_home, problems_file, capsys) -> None:
    scripted_server.engine.default_reply = [BOTH_GOOD]
    assert _run(scripted_server.url, problems_file, "--model", "smollm2:135m", "-n", "2") == 0
    run_dir = next((ia_home / "data" / "generated" / "smollm2_135m").iterdir())
    (run_dir / "summary.json").unlink()
    (ia_home / "data" / "benchmarks" / "leaderboard.md").unlink()
    assert main_benchmark.main(["report", run_dir.name]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["pass_at_k"]["1"]["value"] == 1.0 and summary["pass_at_k"]["1"]["value"] == 1.0
    assert "2" not in summary["pass_at_k"] and summary["n"] == 2
    assert (ia_home / "data" / "benchmarks" / "leaderboard.md").exists()


def test_ctrl_c_stops_cleanly_and_resume_finishes(scripted_server, ia_home, problems_file) -> None:
    engine = scripted_server.engine
    engine.enqueue(Script([GOOD_ADD]), Script(["```python\n", Delay(60), "x"]))
    proc = subprocess.Popen(
        [sys.executable, "main_benchmark.py", "run", "--hosts", scripted_server.url, "--problems", str(problems_file),
         "--model", "smollm2:135m"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, COLUMNS="200"),
    )  # fmt: skip
    try:
        wait_until(lambda: len(engine.generations) == 2 and engine.generations[1].pieces >= 1, timeout=60)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    flat = " ".join(out.split())
    assert "Stopped: 1 new sample saved" in flat and "--resume" in flat
    assert engine.wait_generation_end().stopped_by_cancel
    run_dir = next((ia_home / "data" / "generated" / "smollm2_135m").iterdir())
    lines = (run_dir / "samples.jsonl").read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["task_id"] for line in lines] == ["t/add"]

    engine.enqueue(Script([BAD_EVEN]))
    assert main_benchmark.main(["run", "--hosts", scripted_server.url, "--resume", run_dir.name]) == 0
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["samples"] == 2 and summary["pass_at_k"]["1"]["value"] == 0.5


def test_evaluate_and_selfcheck_commands(ia_home, problems_file, tmp_path, capsys) -> None:
    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        json.dumps({"task_id": "t/add", "completion": "    return a + b\n"}) + "\n"
        + json.dumps({"task_id": "t/even", "completion": "    print('passed')\n    exit(0)\n"}) + "\n",
        encoding="utf-8",
    )  # fmt: skip
    assert main_benchmark.main(["evaluate", "--problems", str(problems_file), "--samples", str(samples)]) == 0
    assert "pass@1: 50.0% [" in capsys.readouterr().out
    results = [json.loads(x) for x in Path(f"{samples}_results.jsonl").read_text().splitlines()]
    assert [r["passed"] for r in results] == [True, False]  # printing "passed" and exit(0) do not pass
    assert main_benchmark.main(["selfcheck", "--problems", str(problems_file)]) == 0
    assert "2/2 canonical solutions pass" in capsys.readouterr().out


def test_evaluate_keeps_a_bad_samples_line_as_a_row_and_scores_the_others(
    problems_file, tmp_path, capsys
) -> None:
    """A line that is not JSON becomes a result row that says so; the other rows are still scored (it used to
    stop everything with exit 5 and no results); a file with nothing scorable exits 5, results written."""
    samples = tmp_path / "samples.jsonl"
    samples.write_text(
        '{"task_id": "t/add", "completion": "    return a + b\\n"}\n{broken\n', encoding="utf-8"
    )
    assert main_benchmark.main(["evaluate", "--problems", str(problems_file), "--samples", str(samples)]) == 0
    captured = capsys.readouterr()
    assert "pass@1: 100.0%" in captured.out
    assert "1 of 2 rows could not be scored" in " ".join(captured.err.split())
    assert "line 2 is not valid JSON" in " ".join(captured.err.split())
    good, bad = [json.loads(x) for x in Path(f"{samples}_results.jsonl").read_text().splitlines()]
    assert good["passed"] is True and good["reason"] == "passed"
    assert bad["line"] == 2 and bad["text"] == "{broken" and bad["reason"] == "malformed row"
    samples.write_text("{broken\n[1, 2]\n", encoding="utf-8")
    assert main_benchmark.main(["evaluate", "--problems", str(problems_file), "--samples", str(samples)]) == 5
    assert "2 of 2 rows could not be scored" in " ".join(capsys.readouterr().err.split())
    assert len(Path(f"{samples}_results.jsonl").read_text().splitlines()) == 2


@pytest.mark.parametrize(
    ("argv", "code", "message"),
    [
        (["run", "--hosts", "http://127.0.0.1:9"], 3, "Cannot reach Ollama"),
        (["run", "--model", "nope", "--hosts", "{url}", "--problems", "{problems}"], 4, "Model 'nope'"),
        (["run", "--hosts", "{url}"], 5, "Say which model"),
        (
            ["run", "--model", "smollm2:135m", "--hosts", "{url}", "--suite", "no_such_suite"],
            5,
            "no_such_suite",
        ),
        (["run", "--resume", "zzz", "--hosts", "{url}"], 5, "No benchmark run 'zzz'"),
        (["compare", "zzz"], 5, "No benchmark run 'zzz'"),
        (["report"], 5, "No benchmark run with samples yet"),
        (
            ["sweep", "--model", "smollm2:135m", "--hosts", "{url}", "--grid", "num_ctx"],
            1,  # a ConfigError (a setting written wrong), exit 1 as in main.py
            "name=value1,value2",
        ),
    ],
)
def test_bad_input_gets_a_clear_message(scripted_server, problems_file, capsys, argv, code, message) -> None:
    argv = [a.format(url=scripted_server.url, problems=problems_file) for a in argv]
    assert main_benchmark.main(argv) == code
    assert message in " ".join(capsys.readouterr().err.split())


def test_bad_option_syntax_is_rejected_by_the_parser(capsys) -> None:
    with pytest.raises(SystemExit) as exc:
        main_benchmark.main(["run", "--model", "m", "--option", "temperature"])
    assert exc.value.code == 2 and "KEY=VALUE" in capsys.readouterr().err


def test_options_flags_and_defaults(scripted_server, ia_home, problems_file) -> None:
    scripted_server.engine.default_reply = [BOTH_GOOD]
    argv = ["--model", "smollm2:135m", "--temperature", "0.3", "--seed", "7", "--top-p", "0.5", "--num-ctx", "1024",
            "--num-predict", "99", "--option", "top_k=5", "--limit", "1"]  # fmt: skip
    assert _run(scripted_server.url, problems_file, *argv) == 0
    bodies = scripted_server.engine.bodies("/api/chat")
    assert len(bodies) == 1  # --limit 1
    assert bodies[0]["options"] == {"temperature": 0.3, "seed": 7, "top_p": 0.5, "num_ctx": 1024, "num_predict": 99,
                                    "top_k": 5}  # fmt: skip


def test_sweep_prints_a_recommendation(scripted_server, ia_home, problems_file, capsys) -> None:
    scripted_server.engine.default_reply = ["    return a + b\n"]
    argv = ["sweep", "--model", "smollm2:135m", "--hosts", scripted_server.url, "--problems", str(problems_file),
            "--grid", "num_ctx=1024,2048", "--grid", "keep_alive=0,5m"]  # fmt: skip
    assert main_benchmark.main(argv) == 0
    out = capsys.readouterr().out
    assert "Recommendation for this machine:" in out
    bodies = scripted_server.engine.bodies("/api/chat")
    assert len(bodies) == 8  # 4 combinations x 2 problems
    assert {(b["options"]["num_ctx"], b.get("keep_alive")) for b in bodies} == {
        (1024, 0), (1024, "5m"), (2048, 0), (2048, "5m"),
    }  # fmt: skip
    files = list((ia_home / "data" / "benchmarks").glob("sweep_smollm2_135m_*"))
    assert sorted(p.suffix for p in files) == [".csv", ".md", ".png"]


def test_rerunning_a_configuration_keeps_one_leaderboard_row(scripted_server, ia_home, problems_file) -> None:
    """Re-running the same configuration makes a new run folder and updates its one leaderboard row."""
    scripted_server.engine.default_reply = [BOTH_GOOD]
    for _ in range(2):
        assert _run(scripted_server.url, problems_file, "--model", "smollm2:135m") == 0
    runs = list((ia_home / "data" / "generated" / "smollm2_135m").iterdir())
    assert len(runs) == 2
    board = (ia_home / "data" / "benchmarks" / "leaderboard.md").read_text(encoding="utf-8")
    assert "smollm2:135m (chat): 2 run(s)" in board
    with (ia_home / "data" / "benchmarks" / "leaderboard.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["Model"] for r in rows] == ["smollm2:135m (chat)"]
    assert rows[0]["Run"] == sorted(p.name for p in runs)[-1]  # the latest run represents the configuration


def test_hosts_say_which_backend_served_the_run(
    scripted_embedded_server, ia_home, problems_file, capsys
) -> None:
    """--hosts asks each server what it is: our embedded server is labelled embedded, not ollama."""
    scripted_embedded_server.engine.default_reply = [BOTH_GOOD]
    assert _run(scripted_embedded_server.url, problems_file, "--model", "smollm2:135m") == 0
    assert f"Using {scripted_embedded_server.url} (embedded)" in capsys.readouterr().out
    run_dir = next((ia_home / "data" / "generated" / "smollm2_135m").iterdir())
    assert json.loads((run_dir / "run.json").read_text())["backend"] == "embedded"
    assert json.loads((run_dir / "summary.json").read_text())["backend"] == "embedded"
    with (ia_home / "data" / "benchmarks" / "leaderboard.csv").open(encoding="utf-8") as fh:
        assert next(csv.DictReader(fh))["Backend"].startswith("embedded ")


def test_a_server_that_is_not_ours_is_labelled_ollama(ia_home) -> None:
    """Ollama's server does not send our x-ia-backend header; a plain HTTP server answering its API stands in
    (served by another uvicorn-like stack or not, only our header counts). --hosts asks it through the core
    client's identify(), the same question the CLI and the app ask."""
    from core.benchmark.service import Hosts
    from core.errors import ServerUnreachable
    from tests.fixtures.servers import PlainHandler, plain_http_server

    asked: list[str] = []

    class OllamaLike(PlainHandler):
        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            asked.append(self.path)
            body = b'{"version":"0.12.0"}' if self.path == "/api/version" else b"Ollama is running"
            # "Server: uvicorn" too: not ours even so, only our own header says embedded
            self.send(200, body, (("Server", "uvicorn"),))

    with plain_http_server(OllamaLike) as url:
        hosts = Hosts(url)
        try:
            assert hosts.kind == "ollama" and hosts.note == f"Using {url} (ollama)"
            assert asked == ["/"]  # one question, identify()'s: no ping then a second probe of its own
        finally:
            hosts.close()
    with pytest.raises(ServerUnreachable):  # nothing there: no claim, the run does not start
        Hosts("http://127.0.0.1:9")


def test_our_server_at_ollama_host_is_labelled_embedded(
    scripted_embedded_server, ia_home, monkeypatch
) -> None:
    """Without --hosts the benchmark uses the backend core.backend.connect picks; `python -m core.embedded` at
    OLLAMA_HOST is labelled embedded from its identify() answer, with no second question of its own."""
    from core.benchmark.service import Hosts

    monkeypatch.setenv("OLLAMA_HOST", scripted_embedded_server.url)
    hosts = Hosts()
    try:
        assert hosts.kind == "embedded" and hosts.clients[0].host == scripted_embedded_server.url
        assert hosts.backend is not None and hosts.backend.server is None  # found there, not started by us
    finally:
        hosts.close()


@pytest.mark.model
def test_ctrl_c_before_the_first_token_stops_the_embedded_server_cleanly(ia_home, tmp_path) -> None:
    """main_benchmark.py starts the real embedded server itself; Ctrl-C while llama.cpp still reads a long
    prompt (a step it cannot abandon) lets that step end, then stops: the resume hint, no uvicorn traceback,
    exit 130 (stopping under the running step printed a traceback and sometimes crashed at exit)."""
    words = " ".join(f"word{i % 50}" for i in range(400))  # ~1200 tokens: seconds of prompt processing
    problems = tmp_path / "long.jsonl"
    problems.write_text(json.dumps({"task_id": "t/long", "prompt": f'def f():\n    """{words}"""\n',
                                    "entry_point": "f", "test": "def check(c):\n    pass\n"}) + "\n")  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "main_benchmark.py", "run", "--embedded", "force", "--model", "smollm2:135m",
         "--problems", str(problems)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ, COLUMNS="200"),
    )  # fmt: skip
    try:
        wait_until(lambda: any(ia_home.glob("data/generated/*/*/run.json")), timeout=60)
        time.sleep(1.0)  # the request is at the server: loading the model, then reading the prompt
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    flat = " ".join(out.split())
    assert "Stopped: 0 new samples saved" in flat  # interrupted mid-request
    assert "Letting the embedded server finish its current step" in flat
    assert "Traceback" not in err and "graceful shutdown" not in err and "ASGI" not in err, err

"""A run's files and what is made from them: rescore of an old run, readable reports with each failure, DEV
records of every sample, and run folders that no character or cut line can break."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import load_workbook

import main_benchmark
from core.benchmark.problems import builtin_suite
from core.embedded.scripted import Script
from tests.benchmark.old_runs import write_old_run
from tests.benchmark.test_runner import BAD_EVEN, GOOD_ADD, PROBLEMS

ROOT = Path(__file__).resolve().parents[2]
SUITE = builtin_suite("ia_basic")
FIRST3 = [SUITE[f"ia_basic/{i}"] for i in range(3)]


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    from benchcli import display

    monkeypatch.setenv("COLUMNS", "300")
    display.console.width = 300
    display.err_console.width = 300


@pytest.fixture
def problems_file(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS), encoding="utf-8")
    return path


def _fenced(problem, body: str) -> str:
    return f"Here you go:\n```python\ndef {problem.entry_point}(n):\n{body}```\nHope it helps!"


def _old_run(home: Path) -> Path:
    """is_prime and fibonacci answered right but lost by an older extraction ("    pass"), factorial wrong."""
    replies = [_fenced(FIRST3[0], FIRST3[0].canonical_solution), _fenced(FIRST3[1], FIRST3[1].canonical_solution),
               _fenced(FIRST3[2], "    return 1\n")]  # fmt: skip
    completions = ["    pass\n", "    pass\n", "\ndef factorial(n):\n    return 1\n"]
    return write_old_run(home, FIRST3, replies, completions, [False, False, False], limit=3)


def _cli(home: Path, *argv: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, IA_HOME=str(home), COLUMNS="300")
    return subprocess.run([sys.executable, "main_benchmark.py", *argv], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def _flat(text: str) -> str:
    return " ".join(text.split())


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_bytes().decode("utf-8").splitlines()]


def _extraction_id() -> str:
    from core.benchmark.summary import extraction_id

    return extraction_id()


def test_rescore_re_extracts_an_old_run_and_says_what_changed(ia_home: Path) -> None:
    run_dir = _old_run(ia_home)
    done = _cli(ia_home, "rescore", run_dir.name)
    assert done.returncode == 0, done.stderr
    out = _flat(done.stdout)
    assert (
        f"pass@1 0/3 -> 2/3; 2 samples re-extracted; 2 verdicts changed; extraction not recorded -> "
        f"{_extraction_id()}" in out
    ), out

    results = _rows(run_dir / "results.jsonl")
    assert [(r["task_id"], r["passed"], r["reason"]) for r in results] == [
        ("ia_basic/0", True, "passed"), ("ia_basic/1", True, "passed"), ("ia_basic/2", False, "assertion"),
    ]  # fmt: skip
    assert all(r["code"].startswith(p.prompt) for r, p in zip(results, FIRST3, strict=True))
    samples = _rows(run_dir / "samples.jsonl")
    assert "while i * i <= n" in samples[0]["completion"]  # the sample now holds today's extraction
    assert (run_dir / samples[0]["code_file"]).read_text(encoding="utf-8") == results[0]["code"]
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert summary["extraction"] == _extraction_id() and summary["pass_at_k"]["1"]["value"] == pytest.approx(
        2 / 3
    )
    assert summary["per_problem"]["ia_basic/2"]["entry_point"] == "factorial"
    assert summary["per_problem"]["ia_basic/2"]["reasons"] == {"assertion": 1}
    reports = ia_home / "data" / "benchmarks"
    (report,) = reports.glob("report_*.md")
    assert "smollm2:135m (chat, first 3)" in report.read_text(encoding="utf-8")
    assert "smollm2:135m (chat, first 3)" in (reports / "leaderboard.md").read_text(encoding="utf-8")
    assert str(report) in out

    again = _cli(ia_home, "rescore", run_dir.name)
    assert again.returncode == 0, again.stderr
    assert (
        f"pass@1 2/3 -> 2/3; 0 samples re-extracted; 0 verdicts changed; extraction {_extraction_id()} "
        "(unchanged)" in _flat(again.stdout)
    )
    assert _cli(ia_home, "rescore", "nope").returncode == 5


def test_an_old_summary_is_read_by_every_reader(ia_home: Path, capsys) -> None:
    """summary.json files written before the typed record: list, report and the record itself read them."""
    from core.benchmark.summary import RunSummary

    run_dir = _old_run(ia_home)
    old = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    summary = RunSummary.from_dict(old)
    assert (summary.model, summary.limit, summary.label) == (
        "smollm2:135m",
        3,
        "smollm2:135m (chat, first 3)",
    )
    assert summary.pass1.value == 0.0 and summary.pass1.problems == 3 and "not recorded" in summary.method
    assert summary.per_problem["ia_basic/0"].name == "ia_basic/0"  # no entry point recorded: the id
    assert summary.speed_of("gen_tps").median == 40.0 and summary.speed_of("rss_mb").median is None
    assert RunSummary.from_dict(summary.to_dict()) == summary
    assert main_benchmark.main(["list"]) == 0
    assert "20260101-120000-chat-0a1b2c" in capsys.readouterr().out
    assert main_benchmark.main(["report", run_dir.name]) == 0
    (report,) = (ia_home / "data" / "benchmarks").glob("report_*.md")
    text = report.read_text(encoding="utf-8")
    assert "| smollm2:135m (chat, first 3) |" in text and "not recorded" in text
    assert "`ia_basic/2` (ia_basic/2), sample 0: assertion" in text  # an old result: reason from its text


def test_run_files_take_any_character_and_keep_cut_lines(ia_home: Path, capsys) -> None:
    """A reply with a lone surrogate, a NUL and bytes that are not UTF-8, and a line cut by a crash: scoring
    the run again writes every result and the summary, keeps the cut line, and says so (the old scoring
    crashed on the surrogate and silently dropped the cut line)."""
    run_dir = _old_run(ia_home)
    samples = (run_dir / "samples.jsonl").read_bytes().splitlines()
    first = json.loads(samples[0])
    first["raw"] = first["raw"].replace("Hope it helps!", "Hope \ud800 it\x00 helps!")
    samples[0] = json.dumps(first).encode("ascii").replace(b"Hope", b"\xff\xfeHope")
    cut = b'{"task_id": "ia_basic/1", "completion": "    ret'
    (run_dir / "samples.jsonl").write_bytes(b"\n".join(samples) + b"\n" + cut + b"\n")
    assert main_benchmark.main(["report", run_dir.name, "--rescore"]) == 0

    text = (run_dir / "results.jsonl").read_bytes().decode("utf-8")  # strict: valid UTF-8
    results = [json.loads(line) for line in text.splitlines()]
    assert len(results) == 4 and results[0]["passed"] is True
    assert results[0]["raw"].endswith("\n\udcff\udcfeHope \ud800 it\x00 helps!")
    assert results[3]["reason"] == "malformed row" and results[3]["text"] == cut.decode()
    summary = json.loads((run_dir / "summary.json").read_bytes().decode("utf-8"))
    assert summary["malformed"] == 1 and summary["samples"] == 3
    assert (run_dir / "samples.jsonl").read_bytes().endswith(cut + b"\n")  # kept, not lost
    (report,) = (ia_home / "data" / "benchmarks").glob("report_*.md")
    assert "1 line(s) of samples files were not samples" in report.read_text(encoding="utf-8")


def test_reports_name_problems_and_show_each_failure(scripted_server, ia_home, problems_file) -> None:
    scripted_server.engine.enqueue(Script([GOOD_ADD]), Script([BAD_EVEN]))
    argv = [
        "run",
        "--hosts",
        scripted_server.url,
        "--problems",
        str(problems_file),
        "--model",
        "smollm2:135m",
    ]
    assert main_benchmark.main(argv) == 0
    bench = ia_home / "data" / "benchmarks"
    (report,) = bench.glob("report_*.md")
    text = report.read_text(encoding="utf-8")
    run_dir = next((ia_home / "data" / "generated" / "smollm2_135m").iterdir())
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    assert "Sandbox isolation: " + summary["sandbox"] in text
    assert summary["pass_at_k"]["1"]["method"] and summary["pass_at_k"]["1"]["method"] in text
    assert (
        "| add | t/add | easy | 1/1 |" in text and "| is_even | t/even | medium | 0/1 (assertion) |" in text
    )
    failures = text[text.index("## Failures") :]
    assert "#### `is_even` (t/even), sample 0: assertion" in failures
    assert "Result: failed: AssertionError" in failures
    assert "Extracted code:\n\n```python\ndef is_even(n: int) -> bool:\n    return False\n```" in failures
    # the reply, collapsed, in a fence longer than its own ``` so it shows as it came
    assert f"<details><summary>Reply</summary>\n\n````text\n{BAD_EVEN}\n````\n\n</details>" in failures
    assert "t/add" not in failures  # only failures
    with (bench / f"{report.stem}_failures.csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["Problem"], row["Id"], row["Reason"]) == ("is_even", "t/even", "assertion")
    sheet = load_workbook(report.with_suffix(".xlsx"))["Failures"]
    assert [c.value for c in sheet[2]][:5] == ["smollm2:135m (chat)", "is_even", "t/even", 0, "assertion"]


def test_every_generated_sample_is_a_dev_record(scripted_server, ia_home, problems_file) -> None:
    """Benchmark samples land in data/dev_responses.jsonl/.log as chat requests do, labelled as a run's."""
    scripted_server.engine.enqueue(Script([GOOD_ADD]), Script([BAD_EVEN]))
    argv = [
        "run",
        "--hosts",
        scripted_server.url,
        "--problems",
        str(problems_file),
        "--model",
        "smollm2:135m",
    ]
    assert main_benchmark.main(argv) == 0
    run_id = next((ia_home / "data" / "generated" / "smollm2_135m").iterdir()).name
    records = [json.loads(x) for x in (ia_home / "data" / "dev_responses.jsonl").read_text().splitlines()]
    assert sorted(r["session"] for r in records) == [
        f"benchmark:{run_id}/t/add#0",
        f"benchmark:{run_id}/t/even#0",
    ]
    by_task = {r["session"].rsplit("/", 1)[-1]: r for r in records}
    add = by_task["add#0"]
    assert (
        add["model"] == "smollm2:135m"
        and add["host"] == scripted_server.url
        and add["reply_chars"] == len(GOOD_ADD)
    )
    assert add["prompt_chars"] > len(PROBLEMS[0]["prompt"]) and add["ttft_s"] > 0 and add["gen_tps"] > 0
    assert add["options"] == {"num_predict": 256, "temperature": 0.0} and add["error"] is None
    lines = (ia_home / "data" / "dev_responses.log").read_text().splitlines()
    assert len(lines) == 2 and all(f"session=benchmark:{run_id}/" in line for line in lines)


def test_a_reply_with_any_character_is_saved_as_it_arrives(ia_home: Path) -> None:
    """A server may send a lone surrogate (JSON allows the escape) or NUL in a reply: the run's sample line
    and its code file are written (escaped), the next sample lands after them (the old writer crashed the
    worker on the surrogate, losing the sample)."""
    from core.benchmark.store import RunInfo, RunStore, SampleWriter

    info = RunInfo(run_id="r", model="m", digest="", backend_version="", backend="ollama", hosts=[], style="chat",
                   suite="ia_basic", n=1, options={}, limit=None, timeout=5.0, key="k")  # fmt: skip
    store = RunStore.create(ia_home, info)
    writer = SampleWriter(store)
    writer.write(
        {"task_id": "ia_basic/0", "sample_index": 0, "raw": "x\ud800y\x00z"}, "def f():\n    '\ud800'\n"
    )
    writer.write({"task_id": "ia_basic/1", "sample_index": 0, "raw": "fine"}, "def g(): pass\n")
    lines = store.samples.read_bytes().decode("utf-8").splitlines()
    assert [json.loads(line)["raw"] for line in lines] == ["x\ud800y\x00z", "fine"]
    code = (store.dir / "code" / "ia_basic__0_0.py").read_text(encoding="utf-8")
    assert code == "def f():\n    '\\ud800'\n"  # the character UTF-8 cannot hold, as its escape

"""The vision suite as a first-class run: images reach the server, answers are scored exactly, reports,
resume, evaluate and selfcheck work, and a model without vision is refused before anything is sent."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook

import main_benchmark
from benchcli import display
from core.benchmark.evaluate import EXACT_SCORING
from core.benchmark.multimodal import (
    VisionProblem,
    load_vision_suite,
    vision_suite,
    write_vision_suite,
    wrong_answer,
)
from core.benchmark.runner import BenchmarkRun, RunSpec
from core.embedded.scripted import Script
from core.errors import CapabilityMissing
from core.ollama_client import OllamaClient
from tests.benchmark.test_runner import BOTH_GOOD, PROBLEMS

SIX = list(vision_suite().values())[:6]  # count, colour, read, count, colour, read
RIGHT = {"ia_vision/0", "ia_vision/2", "ia_vision/4"}  # a count, a word and a colour answered right


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    display.console.width = 220
    display.err_console.width = 220


def _right(problem: VisionProblem) -> str:
    """A correct reply in the words a chatty model might use."""
    return {
        "number": f"I count {problem.answer}.",
        "colour": f"It is {problem.answer.upper()}.",
        "text": f'The word is "{problem.answer.upper()}".',
    }[problem.scorer]


def _expected(problem: VisionProblem) -> tuple[bool, str]:
    if problem.task_id in RIGHT:
        return True, "passed"
    got = repr(wrong_answer(problem)) if problem.scorer == "text" else wrong_answer(problem)
    return False, f"failed: expected {problem.answer}, got {got}"


def _script(problems: list[VisionProblem]) -> list[Script]:
    return [Script([_right(p) if p.task_id in RIGHT else wrong_answer(p)]) for p in problems]


def _lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def _run_dir(home: Path, model: str = "vision_latest") -> Path:
    (run_dir,) = (home / "data" / "generated" / model).iterdir()
    return run_dir


def test_vision_run_sends_images_scores_exactly_and_reports(scripted_server, ia_home, capsys) -> None:
    engine = scripted_server.engine
    engine.enqueue(*_script(SIX))
    argv = [
        "run",
        "--hosts",
        scripted_server.url,
        "--model",
        "vision:latest",
        "--suite",
        "multimodal",
        "--limit",
        "6",
    ]
    assert main_benchmark.main(argv) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "vision:latest: pass@1 50.0%" in out and "scored exactly" in out and "(ollama)" in out

    # The server received each question with its image, base64, in the user message.
    bodies = engine.bodies("/api/chat")
    assert [b["messages"] for b in bodies] == [
        [{"role": "user", "content": p.prompt, "images": [p.image_b64]}] for p in SIX
    ]
    assert all("Python" not in b["messages"][0]["content"] for b in bodies)

    run_dir = _run_dir(ia_home)
    info = json.loads((run_dir / "run.json").read_text())
    assert info["kind"] == "vision" and info["sandbox"] == EXACT_SCORING and info["backend"] == "ollama"
    samples = {s["task_id"]: s for s in _lines(run_dir / "samples.jsonl")}
    first = samples["ia_vision/0"]
    assert first["raw"] == _right(SIX[0]) and first["completion"] == _right(SIX[0])
    assert (
        first["ttft_s"] > 0
        and first["gen_tps"]
        and first["eval_count"] == 1
        and first["done_reason"] == "stop"
    )
    for sample in samples.values():  # the answer text is kept beside the samples, never a .py
        assert sample["code_file"].startswith("answers/") and sample["code_file"].endswith(".txt")
        assert (run_dir / sample["code_file"]).read_text(encoding="utf-8") == sample["completion"]
    assert not (run_dir / "code").exists()

    results = {r["task_id"]: (r["passed"], r["result"]) for r in _lines(run_dir / "results.jsonl")}
    assert results == {p.task_id: _expected(p) for p in SIX}
    assert {r["isolation"] for r in _lines(run_dir / "results.jsonl")} == {EXACT_SCORING}

    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["pass_at_k"]["1"]["value"] == 0.5 and summary["kind"] == "vision" and summary["complete"]
    assert summary["per_problem"]["ia_vision/1"] == {"tier": SIX[1].tier, "n": 1, "passed": 0, "pass@1": 0.0,
                                                     "entry_point": "", "reasons": {"assertion": 1}}  # fmt: skip
    for tier in {p.tier for p in SIX}:
        mine = [p for p in SIX if p.tier == tier]
        expected = sum(p.task_id in RIGHT for p in mine) / len(mine)
        assert summary["per_tier"][tier] == pytest.approx(
            {"problems": len(mine), "pass@1": expected, "low": summary["per_tier"][tier]["low"],
             "high": summary["per_tier"][tier]["high"], "method": summary["per_tier"][tier]["method"]}
        )  # fmt: skip

    bench = ia_home / "data" / "benchmarks"
    (report,) = bench.glob("report_*.md")
    text = report.read_text(encoding="utf-8")
    assert "| multimodal (first 6) |" in text and EXACT_SCORING in text and "| ia_vision/5 |" in text
    with report.with_suffix(".csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (
        row["Suite"] == "multimodal (first 6)"
        and row["pass@1 %"] == "50.0"
        and row["Backend"].startswith("ollama")
    )
    sheet = load_workbook(report.with_suffix(".xlsx"))["Runs"]
    assert sheet.cell(2, 3).value == "multimodal (first 6)"
    for png in (
        f"{report.stem}_speed_vs_pass.png",
        f"{report.stem}_pass_map.png",
        "leaderboard_pass_map.png",
    ):
        assert (bench / png).stat().st_size > 5_000
    assert "vision:latest (chat, first 6)" in (bench / "leaderboard.md").read_text(encoding="utf-8")

    assert main_benchmark.main(["list"]) == 0
    listing = capsys.readouterr().out
    assert "multimodal" in listing and "vision:latest" in listing
    assert main_benchmark.main(["compare", run_dir.name]) == 0
    assert "50.0 [" in capsys.readouterr().out
    assert main_benchmark.main(["report", run_dir.name, "--rescore"]) == 0
    assert {r["task_id"]: (r["passed"], r["result"]) for r in _lines(run_dir / "results.jsonl")} == results


def test_vision_problems_file_evaluate_and_selfcheck(scripted_server, ia_home, tmp_path, capsys) -> None:
    path = write_vision_suite(tmp_path / "vision.jsonl", seed=3, count=4)
    problems = list(load_vision_suite(path).values())
    scripted_server.engine.enqueue(*[Script([p.answer]) for p in problems])
    argv = ["run", "--hosts", scripted_server.url, "--model", "vision:latest", "--problems", str(path)]
    assert main_benchmark.main(argv) == 0
    run_dir = _run_dir(ia_home)
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["pass_at_k"]["1"]["value"] == 1.0 and summary["suite"] == str(path)
    images = [b["messages"][0]["images"] for b in scripted_server.engine.bodies("/api/chat")]
    assert images == [[p.image_b64] for p in problems]

    # `evaluate` scores a vision samples file exactly (no sandbox), here with one answer changed.
    samples = _lines(run_dir / "samples.jsonl")
    samples[1]["completion"] = wrong_answer(problems[1])
    edited = tmp_path / "edited.jsonl"
    edited.write_text("".join(json.dumps(s) + "\n" for s in samples), encoding="utf-8")
    capsys.readouterr()
    assert main_benchmark.main(["evaluate", "--problems", str(path), "--samples", str(edited)]) == 0
    assert "pass@1: 75.0% [" in capsys.readouterr().out
    scored = _lines(Path(f"{edited}_results.jsonl"))
    assert [r["passed"] for r in scored] == [True, False, True, True]
    assert scored[1]["result"].startswith(f"failed: expected {problems[1].answer}, got ")

    # selfcheck: every known answer passes and a wrong one fails, for a file and for the built-in suite.
    assert main_benchmark.main(["selfcheck", "--problems", str(path)]) == 0
    assert "4/4 known answers score as passed" in capsys.readouterr().out
    assert main_benchmark.main(["selfcheck", "--problems", "multimodal"]) == 0
    assert "24/24 known answers" in capsys.readouterr().out
    broken = dict(problems[0].to_record(), images=["aGVsbG8="])  # base64 of "hello": not an image
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(broken) + "\n", encoding="utf-8")
    assert main_benchmark.main(["selfcheck", "--problems", str(bad)]) == 5
    assert "0/1" in (out := capsys.readouterr().out) and "image cannot be read" in out


def test_a_model_without_vision_is_refused_before_anything_is_sent(scripted_server, ia_home, capsys) -> None:
    argv = ["run", "--hosts", scripted_server.url, "--model", "smollm2:135m", "--suite", "multimodal"]
    assert (
        main_benchmark.main(argv) == 5
    )  # CapabilityMissing: an IAError that is not a missing server or model
    err = " ".join(capsys.readouterr().err.split())
    assert "Model 'smollm2:135m' cannot see images" in err and "needs a vision model" in err
    assert scripted_server.engine.bodies("/api/chat") == []
    assert not (ia_home / "data" / "generated").exists()

    style = [*argv[:4], "vision:latest", "--suite", "multimodal", "--style", "complete"]
    assert main_benchmark.main(style) == 5
    assert "use --style chat" in " ".join(capsys.readouterr().err.split())
    sweep = ["sweep", "--hosts", scripted_server.url, "--model", "smollm2:135m", "--suite", "multimodal"]
    assert main_benchmark.main([*sweep, "--grid", "num_ctx=1024"]) == 5
    assert "needs a vision model" in " ".join(capsys.readouterr().err.split())
    assert scripted_server.engine.bodies("/api/chat") == []


def test_a_code_suite_on_a_vision_model_is_fine(scripted_server, ia_home, tmp_path) -> None:
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS), encoding="utf-8")
    scripted_server.engine.default_reply = [BOTH_GOOD]
    argv = ["run", "--hosts", scripted_server.url, "--model", "vision:latest", "--problems", str(problems)]
    assert main_benchmark.main(argv) == 0
    summary = json.loads((_run_dir(ia_home) / "summary.json").read_text())
    assert summary["kind"] == "code" and summary["pass_at_k"]["1"]["value"] == 1.0
    assert "images" not in scripted_server.engine.bodies("/api/chat")[0]["messages"][0]


def test_resume_of_a_vision_run_redoes_nothing(scripted_server, ia_home) -> None:
    engine = scripted_server.engine
    engine.enqueue(*_script(SIX[:2]))
    spec = RunSpec(model="vision:latest", suite="multimodal", limit=6, options={"temperature": 0.0})
    run = BenchmarkRun(spec, [OllamaClient(scripted_server.url)], ia_home, backend="embedded")
    run.on_progress = lambda done, total, sample: run.cancel() if done == 2 else None
    first = run.execute()
    assert first.status == "interrupted" and first.generated == 2

    engine.enqueue(*_script(SIX[2:]))
    resumed = BenchmarkRun.resume(first.info.run_id, [OllamaClient(scripted_server.url)], ia_home)
    second = resumed.execute()
    assert second.status == "complete" and second.generated == 4 and second.store.dir == first.store.dir
    asked = [b["messages"][0]["images"][0] for b in engine.bodies("/api/chat")]
    assert asked == [p.image_b64 for p in SIX]  # each problem asked once: the first two were not redone
    results = {r["task_id"]: (r["passed"], r["result"]) for r in _lines(second.store.results)}
    assert results == {p.task_id: _expected(p) for p in SIX}
    assert second.summary.pass1.value == 0.5 and second.summary.samples == 6


def test_refusal_names_the_model_and_its_capabilities(scripted_server, ia_home) -> None:
    from core.embedded.scripted import scripted_model

    scripted_server.engine.set_models(scripted_model("coder:7b", capabilities=("completion", "tools")))
    spec = RunSpec(model="coder:7b", suite="multimodal")
    with pytest.raises(CapabilityMissing) as caught:
        BenchmarkRun(spec, [OllamaClient(scripted_server.url)], ia_home)
    assert caught.value.capability == "vision" and "(its capabilities: completion, tools)" in str(
        caught.value
    )


@pytest.mark.model
def test_the_real_embedded_text_model_is_refused(embedded_server, ia_home, capsys) -> None:
    """smollm2:135m on the real llama.cpp backend has no vision: refused with the message, nothing generated."""
    runs_before = len(embedded_server.engine.runs)
    argv = ["run", "--hosts", embedded_server.url, "--model", "smollm2:135m", "--suite", "multimodal"]
    assert main_benchmark.main(argv) == 5
    captured = capsys.readouterr()
    assert "(embedded)" in captured.out
    assert "Model 'smollm2:135m' cannot see images" in " ".join(captured.err.split())
    assert len(embedded_server.engine.runs) == runs_before
    assert not (ia_home / "data" / "generated").exists()


def test_the_llava_script_runs_the_multimodal_suite(scripted_server, ia_home) -> None:
    """tools/benchmark_llava.py: the preset's suite, style and options, any vision model given with --model."""
    from core.benchmark.presets import load_preset, parse_modelfile
    from tools import benchmark_llava

    scripted_server.engine.enqueue(*_script(SIX[:3]))
    assert (
        benchmark_llava.main(["--hosts", scripted_server.url, "--model", "vision:latest", "--limit", "3"])
        == 0
    )
    bodies = scripted_server.engine.bodies("/api/chat")
    assert [b["messages"][0]["images"] for b in bodies] == [[p.image_b64] for p in SIX[:3]]
    preset = load_preset("llava")
    assert all(b["options"] == preset.options for b in bodies)
    summary = json.loads((_run_dir(ia_home) / "summary.json").read_text())
    assert summary["suite"] == "multimodal" and summary["pass_at_k"]["1"]["value"] == pytest.approx(2 / 3)
    system = parse_modelfile(preset.modelfile_path.read_text(encoding="utf-8")).system or ""
    assert "answer only" in system and "Python" not in system  # the prompts ask for a bare answer too

"""Reports, charts and the leaderboard from run summaries: files open in their real readers, keys collapse runs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from openpyxl import load_workbook
from PIL import Image

from core.benchmark import charts
from core.benchmark.leaderboard import build_leaderboard, load_summaries
from core.benchmark.reports import ReportRun, build_tables, write_leaderboard, write_report
from core.benchmark.store import RunInfo, RunStore, options_label, run_key, safe_name, write_json
from core.benchmark.summary import RunSummary


def _runs(*labelled: tuple[str, dict]) -> list[ReportRun]:
    """Report runs from summary.json records, read as every reader reads them (RunSummary.from_dict)."""
    return [ReportRun(label, RunSummary.from_dict(data)) for label, data in labelled]


def _summary(model: str, *, passed: dict[str, int], n: int = 2, tps: float = 50.0, digest: str = "d" * 64,
             version: str = "0.1", options: dict | None = None, style: str = "chat",
             finished: str = "2026-01-01T00:00:00+00:00", run_id: str = "r1") -> dict:  # fmt: skip
    options = options if options is not None else {"temperature": 0.0}
    value = sum(passed.values()) / (n * len(passed))
    return {
        "run_id": run_id,
        "model": model,
        "digest": digest,
        "backend": "embedded",
        "backend_version": version,
        "style": style,
        "suite": "ia_basic",
        "options": options,
        "options_label": options_label(options),
        "key": run_key(model, digest, version, options, style, "ia_basic"),
        "n": n,
        "sandbox": "process group + rlimits (test)",
        "finished": finished,
        "problems": len(passed),
        "samples": n * len(passed),
        "errors": 0,
        "truncated": 1,
        "pass_at_k": {"1": {"value": value, "low": max(0.0, value - 0.2), "high": min(1.0, value + 0.2)}},
        "per_tier": {"easy": {"problems": len(passed), "pass@1": value, "low": 0.1, "high": 0.9}},
        "per_problem": {t: {"tier": "easy", "n": n, "passed": c, "pass@1": c / n} for t, c in passed.items()},
        "speed": {
            "gen_tps": {"median": tps, "p90": tps * 1.2},
            "ttft_s": {"median": 0.2, "p90": 0.4},
            "total_s": {"median": 1.0, "p90": 2.0},
        },
    }


def _save_run(home: Path, summary: dict) -> RunStore:
    info = RunInfo(run_id=summary["run_id"], model=summary["model"], digest=summary["digest"],
                   backend_version=summary["backend_version"], backend="embedded", hosts=["h"],
                   style=summary["style"], suite="ia_basic", n=summary["n"], options=summary["options"],
                   limit=None, timeout=5.0, key=summary["key"], status="complete")  # fmt: skip
    store = RunStore.create(home, info)
    write_json(store.summary, summary)
    return store


def _png_ok(path: Path) -> tuple[int, int]:
    with Image.open(path) as img:
        img.verify()
    with Image.open(path) as img:
        assert img.format == "PNG"
        return img.size


def test_report_files_open_in_their_readers(tmp_path: Path) -> None:
    runs = _runs(
        ("smollm2:135m (chat)", _summary("smollm2:135m", passed={"t/1": 2, "t/2": 0}, tps=80)),
        (
            "gemma3:270m (complete)",
            _summary("gemma3:270m", passed={"t/1": 1, "t/2": 2}, tps=40, style="complete"),
        ),
    )
    files = write_report(runs, tmp_path, "report_x")

    md = files.markdown.read_text(encoding="utf-8")
    assert "Sandbox isolation: process group + rlimits (test)" in md
    assert "| smollm2:135m (chat) |" in md and "| gemma3:270m (complete) |" in md
    assert "![report_x_speed_vs_pass](report_x_speed_vs_pass.png)" in md

    with files.csv[0].open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["Model"] for r in rows] == ["smollm2:135m (chat)", "gemma3:270m (complete)"]
    assert rows[0]["pass@1 %"] == "50.0" and rows[1]["pass@1 %"] == "75.0"
    assert rows[0]["95% CI"] == "[30.0, 70.0]"
    with files.csv[1].open(encoding="utf-8") as fh:
        problems = list(csv.reader(fh))
    assert problems[1] == ["t/1", "t/1", "easy", "2/2", "1/2"]  # no entry point in these summaries: the id

    wb = load_workbook(files.xlsx)
    assert wb.sheetnames == ["Runs", "Speed and resources", "Per tier", "Per problem", "Failures", "About"]
    assert wb["Runs"]["A2"].value == "smollm2:135m (chat)"
    assert any("Sandbox isolation" in str(c.value) for c in wb["About"]["A"])

    assert len(files.charts) == 2
    for chart in files.charts:
        width, height = _png_ok(chart)
        assert width > 400 and height > 200


def test_tables_mark_missing_problems_blank() -> None:
    runs = _runs(("a", _summary("a", passed={"p1": 1})), ("b", _summary("b", passed={"p2": 2})))
    per_problem = build_tables(runs)[3]
    assert per_problem.rows == [["p1", "p1", "easy", "1/2", ""], ["p2", "p2", "easy", "", "2/2"]]


def test_leaderboard_keys_collapse_same_configuration_and_separate_others(ia_home: Path) -> None:
    _save_run(
        ia_home, _summary("smollm2:135m", passed={"p": 0}, run_id="old", finished="2026-01-01T00:00:00")
    )
    _save_run(
        ia_home, _summary("smollm2:135m", passed={"p": 2}, run_id="new", finished="2026-01-02T00:00:00")
    )
    _save_run(ia_home, _summary("smollm2:135m", passed={"p": 1}, run_id="ctx", options={"num_ctx": 8}))
    _save_run(ia_home, _summary("smollm2:135m", passed={"p": 1}, run_id="dig", digest="e" * 64))
    _save_run(ia_home, _summary("smollm2:135m", passed={"p": 1}, run_id="ver", version="0.2"))
    entries = build_leaderboard(load_summaries(ia_home))
    assert len(entries) == 4
    same = [e for e in entries if e.summary.run_id in ("old", "new")]
    assert len(same) == 1 and same[0].summary.run_id == "new" and same[0].runs == 2
    assert entries[0].summary.run_id == "new"  # best pass@1 first
    assert len({e.key for e in entries}) == 4


def test_leaderboard_files_show_models_side_by_side(ia_home: Path) -> None:
    _save_run(ia_home, _summary("smollm2:135m", passed={"p1": 1, "p2": 0}, run_id="a"))
    _save_run(ia_home, _summary("gemma3:270m", passed={"p1": 2, "p2": 2}, run_id="b", style="complete"))
    files = write_leaderboard(ia_home)
    assert files.markdown == ia_home / "data" / "benchmarks" / "leaderboard.md"
    text = files.markdown.read_text(encoding="utf-8")
    assert text.index("gemma3:270m (complete)") < text.index("smollm2:135m (chat)")
    assert "Runs per configuration" in text
    for chart in files.charts:
        _png_ok(chart)


def test_unreadable_summary_is_skipped_and_left_untouched(ia_home: Path) -> None:
    store = _save_run(ia_home, _summary("m", passed={"p": 1}, run_id="bad"))
    store.summary.write_text("{not json", encoding="utf-8")
    assert load_summaries(ia_home) == []
    assert store.summary.read_text(encoding="utf-8") == "{not json"


def test_safe_names_for_model_names_with_separators() -> None:
    assert safe_name("library/llama3:8b-instruct") == "library__llama3_8b-instruct"
    assert safe_name("smollm2:135m") == "smollm2_135m"
    assert safe_name("con") == "_con"
    long = safe_name("x" * 200)
    assert len(long) <= 80 and long != safe_name("x" * 199)
    for hostile in ("../../etc/passwd", "..", ".", "a\\b", "nul.txt"):
        name = safe_name(hostile)
        assert Path(name).name == name and name not in (".", "..") and "/" not in name and "\\" not in name
    assert safe_name("nul.txt") == "_nul.txt"


def test_charts_with_no_scored_run_still_render(tmp_path: Path) -> None:
    path = charts.speed_vs_pass([], tmp_path / "empty.png")
    _png_ok(path)
    path = charts.pass_map([], tmp_path / "empty_map.png")
    _png_ok(path)


def test_summary_json_roundtrip_is_atomic(tmp_path: Path) -> None:
    target = tmp_path / "out" / "s.json"
    write_json(target, {"a": 1})
    write_json(target, {"a": 2})
    assert json.loads(target.read_text()) == {"a": 2}
    assert [p.name for p in target.parent.iterdir()] == ["s.json"]


def test_partial_runs_stay_off_the_leaderboard(ia_home: Path) -> None:
    _save_run(ia_home, dict(_summary("a", passed={"p": 1}, run_id="full"), complete=True))
    _save_run(ia_home, dict(_summary("b", passed={"p": 1}, run_id="part"), complete=False))
    assert [e.model for e in build_leaderboard(load_summaries(ia_home))] == ["a"]


def test_limit_is_part_of_the_key_and_shown() -> None:
    args = ("m", "d" * 64, "0.1", {"temperature": 0.0}, "chat", "ia_basic")
    assert run_key(*args) == run_key(*args, None) != run_key(*args, 10)
    row = build_tables(_runs(("m", dict(_summary("m", passed={"p": 1}), limit=10))))[0].rows[0]
    assert row[2] == "ia_basic (first 10)"

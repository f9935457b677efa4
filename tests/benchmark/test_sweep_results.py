"""core.benchmark.sweep_results: the sweeps `main_benchmark.py sweep` wrote, read back as they were made; a
damaged or foreign sweep file is skipped (logged), never stops the others."""

from __future__ import annotations

import json
from pathlib import Path

import main_benchmark
from core.benchmark.sweep import recommend
from core.benchmark.sweep_results import list_sweeps, parse_settings, read_sweep
from tests.benchmark.test_runner import PROBLEMS


def _problems(tmp_path: Path) -> Path:
    path = tmp_path / "problems.jsonl"
    path.write_text("".join(json.dumps(p) + "\n" for p in PROBLEMS), encoding="utf-8")
    return path


def test_a_real_sweep_reads_back_with_its_recommendation_and_figures(scripted_server, ia_home, tmp_path):
    scripted_server.engine.default_reply = ["    return a + b\n"]
    argv = ["sweep", "--model", "smollm2:135m", "--hosts", scripted_server.url, "--problems",
            str(_problems(tmp_path)), "--grid", "num_ctx=1024,2048", "--grid", "keep_alive=0,5m"]  # fmt: skip
    assert main_benchmark.main(argv) == 0
    (sweep,) = list_sweeps(ia_home)
    assert sweep.model == "smollm2:135m" and sweep.created is not None
    assert len(sweep.rows) == 4 and all(r["requests"] == 2 and r["errors"] == 0 for r in sweep.rows)
    assert sweep.label is not None and sweep.best is not None and sweep.best["settings"] == sweep.label
    assert set(sweep.settings) == {"num_ctx", "keep_alive"} and isinstance(sweep.settings["num_ctx"], int)
    assert sweep.options == {"num_ctx": sweep.settings["num_ctx"]}
    # the recommendation read back is the one the sweep's own rule picks from the figures
    best_tps = max(r["gen_tps_med"] for r in sweep.rows)
    assert round(sweep.best["gen_tps_med"], 1) == round(best_tps, 1)
    assert sorted(p.suffix for p in sweep.files) == [".csv", ".md", ".png"]
    assert recommend([]) is None  # (the rule's own edge: nothing measured, nothing recommended)


def test_damaged_and_foreign_sweep_files_are_skipped(ia_home, caplog):
    out = ia_home / "data" / "benchmarks"
    out.mkdir(parents=True)
    good = out / "sweep_m_20261204-101500.md"
    good.write_text(
        "# Option sweep for m\n\nRecommendation for this machine: **defaults**.\n", encoding="utf-8"
    )
    (out / "sweep_x_20261204-101600.md").write_text("# Something else\n", encoding="utf-8")
    (out / "sweep_y_20261204-101700.md").write_bytes(b"\xff\xfe# Option sweep for y\n")
    (out / "sweep_z_20261204-101800.md").write_text(
        "# Option sweep for z\n\nRecommendation for this machine: **num_ctx**.\n", encoding="utf-8"
    )
    (out / "sweep_w_20261204-101900.md").write_text(
        "# Option sweep for w\n\nNo combination ran cleanly.\n", encoding="utf-8"
    )
    sweeps = list_sweeps(ia_home)
    assert [s.model for s in sweeps] == ["w", "m"]  # newest first; x, y, z skipped
    assert sweeps[0].label is None and sweeps[0].best is None and sweeps[0].options == {}
    assert sweeps[1].label == "defaults" and sweeps[1].settings == {} and sweeps[1].rows == []
    assert sum("skipped" in r.getMessage() for r in caplog.records) == 3
    assert read_sweep(good).created.isoformat() == "2026-12-04T10:15:00+00:00"
    assert parse_settings("num_ctx=2048 temperature=0.5 keep_alive=5m") == {
        "num_ctx": 2048, "temperature": 0.5, "keep_alive": "5m",
    }  # fmt: skip
    assert list_sweeps(ia_home / "nowhere") == []

"""The benchmark screen: an honest empty state, then a real run of the built-in suite and its leaderboard."""

from __future__ import annotations

import pytest

from tests.ui.app_harness import app_driver_fixture  # noqa: F401

pytestmark = pytest.mark.ui


def test_empty_state_when_no_run_exists(app_driver, ia_home):
    from ui.benchmark_screen import load_board

    d = app_driver
    d.ready()
    assert load_board(ia_home).rows == [] and load_board(ia_home).charts == []
    d.press(d.ids.bench_btn)
    bench = d.ids.bench
    d.wait(lambda: d.app.screen == "bench" and bench.model == "smollm2:135m", "the benchmark screen")
    d.wait(lambda: bench.ids.empty_label.text, "the empty state")
    assert "No benchmark run yet" in bench.ids.empty_label.text
    assert "python main_benchmark.py run" in bench.ids.empty_label.text
    assert not bench.ids.table.children and not bench.ids.charts_box.children
    d.shot("app_benchmark_empty")
    d.press(bench.ids.back_btn)
    d.wait(lambda: d.app.screen == "chat", "back to the chat")


def test_run_from_the_screen_fills_leaderboard_and_charts(app_driver, ia_home):
    d = app_driver
    d.ready()
    d.press(d.ids.bench_btn)
    bench = d.ids.bench
    d.wait(lambda: d.app.screen == "bench", "the benchmark screen")
    d.press(bench.ids.quick_box)
    assert bench.quick
    d.press(bench.ids.run_btn)
    d.wait(lambda: bench.running, "the run to start")
    d.wait(lambda: not bench.running, "the run to finish", timeout=240)
    assert bench.status.startswith("Run complete on smollm2:135m"), bench.status
    d.wait(lambda: bench.rows and bench.charts, "the leaderboard and charts")
    assert bench.rows[0][0] == "smollm2:135m" and bench.rows[0][2] == "ia_basic"
    assert all(path.endswith(".png") for path in bench.charts)
    assert (ia_home / "data" / "benchmarks" / "leaderboard.md").is_file()
    assert not bench.empty and not bench.ids.empty_label.text
    assert len(bench.ids.table.children) == 7 * 2  # header row + one leaderboard row
    d.shot("app_benchmark_screen")

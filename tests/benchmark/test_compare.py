"""`compare` decides with a paired test over the problems both runs share, not by overlapping intervals."""

from __future__ import annotations

from pathlib import Path

import pytest

import main_benchmark
from core.benchmark.problems import builtin_suite
from tests.benchmark.old_runs import write_old_run

SUITE = list(builtin_suite("ia_basic").values())


@pytest.fixture(autouse=True)
def wide_console(monkeypatch: pytest.MonkeyPatch) -> None:
    import main_benchmark as entry

    monkeypatch.setenv("COLUMNS", "400")
    console = getattr(entry, "console", None)  # the console lives in benchcli.display now
    if console is None:
        from benchcli.display import console, err_console

        err_console.width = 400
    console.width = 400


def _run(home: Path, model: str, run_id: str, passed: list[bool], problems=SUITE[:8]) -> Path:
    replies = ["```python\npass\n```"] * len(problems)
    return write_old_run(home, problems, replies, ["    pass\n"] * len(problems), passed, model=model,
                         run_id=run_id, limit=len(problems))  # fmt: skip


def _compare(capsys, *refs: str) -> str:
    assert main_benchmark.main(["compare", *refs]) == 0
    return " ".join(capsys.readouterr().out.split())


def test_a_clear_difference_on_shared_problems_is_called_one(ia_home: Path, capsys) -> None:
    """8 of 8 against 0 of 8 on the same problems: the exact McNemar test finds it (p = 2/256)."""
    _run(ia_home, "smollm2:135m", "20260101-000001-chat-aaaaaa", [False] * 8)
    _run(ia_home, "gemma3:270m", "20260101-000002-chat-bbbbbb", [True] * 8)
    out = _compare(capsys, "smollm2:135m", "gemma3:270m")
    assert (
        "gemma3:270m (chat, first 8) is better than smollm2:135m (chat, first 8) at pass@1 by 100.0 points"
        in out
    ), out
    assert "p = 0.008 (exact McNemar test on 8 shared problems (0 vs 8 discordant)" in out


def test_overlapping_looking_runs_are_compared_problem_by_problem(ia_home: Path, capsys) -> None:
    """Two runs with the same score on different problems: no difference, said as a test result with
    its interval and p-value (the old compare only said whether the intervals overlapped)."""
    _run(ia_home, "smollm2:135m", "20260101-000001-chat-aaaaaa", [True] * 4 + [False] * 4)
    _run(ia_home, "gemma3:270m", "20260101-000002-chat-bbbbbb", [False] * 4 + [True] * 4)
    out = _compare(capsys, "20260101-000001-chat-aaaaaa", "20260101-000002-chat-bbbbbb")
    assert (
        "no significant difference between smollm2:135m (chat, first 8) and gemma3:270m (chat, first 8)"
        in out
    )
    assert (
        "= +0.0 points" in out
        and "p = 1.00 (exact McNemar test on 8 shared problems (4 vs 4 discordant)" in out
    )
    assert "intervals overlap" not in out


def test_runs_without_a_shared_problem_are_not_compared(ia_home: Path, capsys) -> None:
    _run(ia_home, "smollm2:135m", "20260101-000001-chat-aaaaaa", [True] * 4, problems=SUITE[:4])
    _run(ia_home, "gemma3:270m", "20260101-000002-chat-bbbbbb", [False] * 4, problems=SUITE[4:8])
    out = _compare(capsys, "smollm2:135m", "gemma3:270m")
    assert "smollm2:135m (chat, first 4) vs gemma3:270m (chat, first 4): no problem in common" in out


def test_two_runs_of_one_model_are_told_apart(ia_home: Path, capsys) -> None:
    _run(ia_home, "smollm2:135m", "20260101-000001-chat-aaaaaa", [False] * 8)
    _run(ia_home, "smollm2:135m", "20260101-000002-chat-bbbbbb", [True] * 8)
    out = _compare(capsys, "20260101-000001-chat-aaaaaa", "20260101-000002-chat-bbbbbb")
    assert (
        "smollm2:135m (chat, first 8) [20260101-000002-chat-bbbbbb] is better than smollm2:135m (chat, first 8) "
        "[20260101-000001-chat-aaaaaa]" in out
    ), out

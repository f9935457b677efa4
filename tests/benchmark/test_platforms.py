"""The benchmark scores on systems without Linux's extras (the seed's own machine runs Windows).

Each test runs a fresh interpreter in which the calls another system lacks are made unavailable, in the host
process and in every harness process (harness.PRELUDE runs there before anything else): ``os.pidfd_open``
(macOS, old kernels), ``os.geteuid`` (Windows) and the ``resource`` module (Windows). Then it detects the
sandbox and scores real samples through evaluate_samples: right ones pass, wrong ones fail, the level that
ran is in every result, and nothing raises AttributeError.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HIDE = (
    "import os, sys\n"
    "for name in ('pidfd_open', 'geteuid'):\n"
    "    if hasattr(os, name):\n"
    "        delattr(os, name)\n"
    "sys.modules['resource'] = None\n"
)
SCRIPT = r"""
import json, os, shutil, sys, tempfile
import psutil  # imports resource itself on Linux; our code must not need it
HIDE
import core.benchmark.harness as harness
harness.PRELUDE.append(HIDE_TEXT)
if NO_NAMESPACES:
    real_which = shutil.which
    shutil.which = lambda name, *a, **k: None if name in ("bwrap", "unshare") else real_which(name, *a, **k)
from core.benchmark.evaluate import evaluate_samples, run_sample
from core.benchmark.problems import builtin_suite, read_jsonl, write_jsonl
from core.benchmark.sandbox import Sandbox

assert not hasattr(os, "pidfd_open") and not hasattr(os, "geteuid")
box = Sandbox.detect()
problems = dict(list(builtin_suite("ia_basic").items())[:4])
rows = []
for problem in problems.values():
    rows.append({"task_id": problem.task_id, "completion": problem.canonical_solution, "kind": "right"})
    rows.append({"task_id": problem.task_id, "completion": "    return None\n", "kind": "wrong"})
    rows.append({"task_id": problem.task_id, "completion": "    while True:\n        pass\n", "kind": "loop"})
folder = tempfile.mkdtemp()
samples = write_jsonl(os.path.join(folder, "samples.jsonl"), rows)
results = read_jsonl(evaluate_samples(problems, samples, workers=2, timeout=2.0, sandbox=box))
single = run_sample(next(iter(problems.values())), next(iter(problems.values())).canonical_solution, sandbox=box)
print(json.dumps({
    "level": box.level,
    "described": box.describe(),
    "results": [[r["kind"], r["passed"], r["isolation"], r["result"]] for r in results],
    "single": [single.passed, single.isolation],
}))
"""


def _run(no_namespaces: bool) -> dict:
    script = (
        SCRIPT.replace("HIDE_TEXT", repr(HIDE))
        .replace("HIDE\n", HIDE)
        .replace("NO_NAMESPACES", "True" if no_namespaces else "False")
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _check_scores(report: dict) -> None:
    kinds = {}
    for kind, passed, isolation, result in report["results"]:
        kinds.setdefault(kind, set()).add(passed)
        assert isolation == report["level"], (isolation, report["level"])
        if kind == "loop":
            assert result == "timed out", result
    assert kinds == {"right": {True}, "wrong": {False}, "loop": {False}}, report["results"]
    assert report["single"] == [True, report["level"]]


def test_scoring_without_pidfd_geteuid_and_resource():
    """As on a system without those calls but with bubblewrap: the strongest level still works, cold and
    pooled, and says so."""
    report = _run(no_namespaces=False)
    expected = "bwrap" if sys.platform.startswith("linux") else report["level"]
    assert report["level"] == expected
    assert report["described"].startswith(report["level"])
    _check_scores(report)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="simulates a bare system on Linux")
def test_scoring_falls_to_what_the_system_offers():
    """No namespaces and no resource module (Windows has neither): the rlimits level cannot apply its limits,
    so detection falls to the process level, which still scores right and wrong samples apart, ends loops by
    the wall-clock timeout, and is named in every result (seccomp and Landlock still apply here)."""
    report = _run(no_namespaces=True)
    assert report["level"] == "process"
    _check_scores(report)

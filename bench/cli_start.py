"""Start-up time of the interactive CLI: launch ``python main.py`` in a pseudo-terminal until its prompt shows.

A scripted server (the embedded server with a ScriptedEngine, in a separate process) answers at OLLAMA_HOST,
so the run includes the backend check and the model lookup. Runs are interleaved with a baseline, a bare
Python that prints a prompt, and the medians are compared; the target is a median under 1 s.

    python bench/cli_start.py [--reps 9]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pexpect

ROOT = Path(__file__).resolve().parents[1]
TARGET_S = 1.0

SERVER = """
import sys
from core.embedded.scripted import ScriptedEngine
from core.embedded.server import EmbeddedServer
server = EmbeddedServer(ScriptedEngine())
print(server.start(), flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
server.stop()
"""

__all__ = ["main"]


def _time_to_prompt(argv: list[str], env: dict[str, str], prompt: str) -> tuple[float, float]:
    """(wall time to the prompt, CPU time the child used): CPU time does not depend on the machine's load."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(ROOT), encoding="utf-8", timeout=30)
    try:
        child.expect_exact(prompt)
        wall = time.perf_counter() - start
    finally:
        child.terminate(force=True)  # reaps the child, so its CPU time is in RUSAGE_CHILDREN
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--reps", type=int, default=9, help="runs of each (default 9)")
    args = parser.parse_args(argv)

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        if not url.startswith("http"):
            print("the scripted server did not start", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory() as home:
            env = dict(os.environ, OLLAMA_HOST=url, IA_HOME=home, IA_EMBEDDED="off", TERM="xterm")
            env["PROMPT_TOOLKIT_NO_CPR"] = "1"
            cli = [sys.executable, str(ROOT / "main.py")]
            bare = [sys.executable, "-c", "input('ia>')"]
            _time_to_prompt(cli, env, "ia>")  # warm the file cache and .pyc files once
            cli_runs, bare_runs = [], []
            for _ in range(args.reps):
                cli_runs.append(_time_to_prompt(cli, env, "ia>"))
                bare_runs.append(_time_to_prompt(bare, env, "ia>"))
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(10)

    load = os.getloadavg()[0]
    print(f"{args.reps} interleaved runs each; load average at the end {load:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':<28}{'wall median':>12}{'min':>8}{'max':>8}{'CPU median':>12}")
    for name, runs in (("python main.py (to prompt)", cli_runs), ("bare python input()", bare_runs)):
        walls, cpus = [w for w, _ in runs], [c for _, c in runs]
        print(
            f"{name:<28}{statistics.median(walls):>11.3f}s{min(walls):>7.3f}s{max(walls):>7.3f}s"
            f"{statistics.median(cpus):>11.3f}s"
        )
    cli_med = statistics.median(w for w, _ in cli_runs)
    bare_med = statistics.median(w for w, _ in bare_runs)
    cli_cpu = statistics.median(c for _, c in cli_runs)
    print(f"ratio main.py / bare python (wall): {cli_med / bare_med:.1f}x")
    verdict = "meets" if cli_med < TARGET_S else "MISSES"
    print(f"target: wall median < {TARGET_S:.1f} s -> {verdict} ({cli_med:.3f} s; CPU {cli_cpu:.3f} s)")
    return 0 if cli_med < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

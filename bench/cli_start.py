"""Start-up time of the interactive CLI: launch ``python main.py`` in a pseudo-terminal until its prompt shows.

A scripted server (the embedded server with a ScriptedEngine, in a separate process) answers at OLLAMA_HOST,
so the run includes the backend check and the model lookup. Runs are interleaved with a baseline, a bare
Python that prints a prompt, and the medians are compared; the target is a median under 1 s.

    python bench/cli_start.py [--reps 9]
"""

from __future__ import annotations

import argparse
import os
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


def _time_to_prompt(argv: list[str], env: dict[str, str], prompt: str) -> float:
    start = time.perf_counter()
    child = pexpect.spawn(argv[0], argv[1:], env=env, cwd=str(ROOT), encoding="utf-8", timeout=30)
    try:
        child.expect_exact(prompt)
        return time.perf_counter() - start
    finally:
        child.terminate(force=True)


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
            cli_times, bare_times = [], []
            for _ in range(args.reps):
                cli_times.append(_time_to_prompt(cli, env, "ia>"))
                bare_times.append(_time_to_prompt(bare, env, "ia>"))
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(10)

    cli_med, bare_med = statistics.median(cli_times), statistics.median(bare_times)
    print(f"{'':<28}{'median':>9}{'min':>9}{'max':>9}")
    print(f"{'python main.py (to prompt)':<28}{cli_med:>8.3f}s{min(cli_times):>8.3f}s{max(cli_times):>8.3f}s")
    print(f"{'bare python input()':<28}{bare_med:>8.3f}s{min(bare_times):>8.3f}s{max(bare_times):>8.3f}s")
    print(f"ratio main.py / bare python: {cli_med / bare_med:.1f}x over {args.reps} interleaved runs")
    verdict = "meets" if cli_med < TARGET_S else "MISSES"
    print(f"target: median < {TARGET_S:.1f} s -> {verdict} ({cli_med:.3f} s)")
    return 0 if cli_med < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())

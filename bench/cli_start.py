"""Start-up time of the interactive CLI: launch ``python main.py`` in a pseudo-terminal until its prompt shows.

IA_HOME holds 10,000 sessions of 20 messages (as bench/sessions_bench.py builds them), indexed once. Two ways
to start, interleaved with a baseline (a bare Python printing a prompt); the target is a median under 1 s:

- Ollama answers: a scripted server (the embedded server with a ScriptedEngine, in a separate process) at
  OLLAMA_HOST, so the run includes the backend check and the model lookup;
- no Ollama (the Quick start's case): nothing at OLLAMA_HOST, so the CLI starts the embedded llama.cpp
  backend and lists its models. Its very first start in a new IA_HOME, which reads the model files once
  (data/embedded_models.json), is printed on its own line.

    python bench/cli_start.py [--reps 9] [--sessions 10000]
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
sys.path.insert(0, str(ROOT))

from bench.sessions_bench import build  # noqa: E402
from config import Settings  # noqa: E402
from core.session_manager import SessionManager  # noqa: E402

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

ROWS = (
    "python main.py (Ollama answers)",
    "python main.py (no Ollama: embedded llama.cpp)",
    "bare python input()",
)


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
    parser.add_argument("--sessions", type=int, default=10_000, help="sessions in IA_HOME (default 10000)")
    args = parser.parse_args(argv)
    try:
        import llama_cpp  # noqa: F401
    except ImportError:
        embedded = False
        print("llama-cpp-python is not installed: the no-Ollama start is not measured", file=sys.stderr)
    else:
        embedded = True

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER], cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        url = server.stdout.readline().strip()  # type: ignore[union-attr]
        if not url.startswith("http"):
            print("the scripted server did not start", file=sys.stderr)
            return 1
        with tempfile.TemporaryDirectory() as home:
            started = time.perf_counter()
            build(Path(home), args.sessions, 20)
            SessionManager(Settings(home=Path(home))).list()  # the index, as the first use built it
            print(
                f"IA_HOME with {args.sessions} sessions x 20 messages, indexed, in {time.perf_counter() - started:.1f} s"
            )
            env = dict(os.environ, OLLAMA_HOST=url, IA_HOME=home, IA_EMBEDDED="off", TERM="xterm")
            env["PROMPT_TOOLKIT_NO_CPR"] = "1"
            no_ollama = dict(env, OLLAMA_HOST="http://127.0.0.1:9", IA_EMBEDDED="auto")  # port 9: refused
            cli = [sys.executable, str(ROOT / "main.py")]
            bare = [sys.executable, "-c", "input('ia>')"]
            _time_to_prompt(cli, env, "ia>")  # warm the file cache and .pyc files once
            first = _time_to_prompt(cli, no_ollama, "ia>") if embedded else None
            runs: dict[str, list[tuple[float, float]]] = {name: [] for name in ROWS}
            for _ in range(args.reps):
                runs[ROWS[0]].append(_time_to_prompt(cli, env, "ia>"))
                if embedded:
                    runs[ROWS[1]].append(_time_to_prompt(cli, no_ollama, "ia>"))
                runs[ROWS[2]].append(_time_to_prompt(bare, env, "ia>"))
    finally:
        server.stdin.close()  # type: ignore[union-attr]
        server.wait(10)

    load = os.getloadavg()[0]
    print(f"{args.reps} interleaved runs each; load average at the end {load:.1f} on {os.cpu_count()} CPUs")
    print(f"{'':<48}{'wall median':>12}{'min':>8}{'max':>8}{'CPU median':>12}")
    for name, rows in runs.items():
        if rows:
            walls, cpus = [w for w, _ in rows], [c for _, c in rows]
            print(
                f"{name:<48}{statistics.median(walls):>11.3f}s{min(walls):>7.3f}s{max(walls):>7.3f}s"
                f"{statistics.median(cpus):>11.3f}s"
            )
    if first is not None:
        print(f"{'  its first start in this IA_HOME':<48}{first[0]:>11.3f}s{'':>16}{first[1]:>11.3f}s")
    bare_med = statistics.median(w for w, _ in runs[ROWS[2]])
    ok = True
    for name in ROWS[:2]:
        if runs[name]:
            med = statistics.median(w for w, _ in runs[name])
            cpu = statistics.median(c for _, c in runs[name])
            ok &= med < TARGET_S
            verdict = "meets" if med < TARGET_S else "MISSES"
            print(
                f"{name.split(' (')[0]}, {name.split('(')[1].rstrip(')')}: {med / bare_med:.1f}x bare python; "
                f"target wall median < {TARGET_S:.1f} s -> {verdict} ({med:.3f} s; CPU {cpu:.3f} s)"
            )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

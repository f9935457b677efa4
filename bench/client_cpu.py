"""CPU cost of our streaming client against a bare `ollama` client loop over the same 2,000-token stream.

The server (the embedded server with a ScriptedEngine replying 2,000 one-token chunks) runs in a separate
process, so only client CPU is counted (time.process_time of this process). Runs are interleaved in pairs
(the order alternating) and the ratio is the median of the per-pair ratios: the two runs of a pair see the
same machine load, so a shared machine's drift cancels out. The ratio of the medians is printed beside it.
The target is ratio <= 1.15.

    python bench/client_cpu.py [--tokens 2000] [--reps 31]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

import ollama

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.ollama_client import OllamaClient  # noqa: E402

__all__ = ["main"]

MODEL = "smollm2:135m"
MESSAGES = [{"role": "user", "content": "Count for me."}]
TARGET = 1.15

SERVER = """
import sys, threading
from core.embedded.scripted import ScriptedEngine
from core.embedded.server import EmbeddedServer
tokens = int(sys.argv[1])
engine = ScriptedEngine(default_reply=tuple(f" t{i}" for i in range(tokens)))
server = EmbeddedServer(engine)
print(server.start(), flush=True)
sys.stdin.read()  # serve until the parent closes our stdin
server.stop()
"""


def _bare(client: ollama.Client) -> tuple[float, int]:
    start = time.process_time()
    parts = []
    for part in client.chat(MODEL, messages=MESSAGES, stream=True):
        parts.append(part.message.content)
    return time.process_time() - start, len("".join(parts))


def _ours(client: OllamaClient) -> tuple[float, int]:
    start = time.process_time()
    stream = client.chat_stream(MODEL, MESSAGES)
    for _chunk in stream:
        pass
    return time.process_time() - start, len(stream.text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=2000)
    parser.add_argument("--reps", type=int, default=31)
    args = parser.parse_args(argv)

    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(args.tokens)],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()
        if not url.startswith("http"):
            print("the scripted server did not start", file=sys.stderr)
            return 1
        bare_client = ollama.Client(url)
        our_client = OllamaClient(url)
        expected = len("".join(f" t{i}" for i in range(args.tokens)))
        for _ in range(2):  # warm-up: imports, first connections, server caches
            _bare(bare_client)
            _ours(our_client)
        bare_times, our_times = [], []
        for rep in range(args.reps):
            pair = [("bare", _bare, bare_client), ("ours", _ours, our_client)]
            if rep % 2:
                pair.reverse()  # alternate the order so neither side always runs second
            for name, run, client in pair:
                cpu, chars = run(client)
                if chars != expected:
                    print(f"{name}: got {chars} characters, expected {expected}", file=sys.stderr)
                    return 1
                (bare_times if name == "bare" else our_times).append(cpu)
        our_client.close()
        bare_client.close()
    finally:
        server.stdin.close()
        server.wait(timeout=30)

    bare, ours = statistics.median(bare_times), statistics.median(our_times)
    ratio = statistics.median(o / b for o, b in zip(our_times, bare_times, strict=True))
    per = 1e6 / args.tokens
    print(f"client CPU for a {args.tokens}-token stream, {args.reps} interleaved pairs of runs")
    print(f"  bare ollama loop  : {bare * 1e3:8.1f} ms  ({bare * per:5.1f} us/chunk, median)")
    print(f"  core.ollama_client: {ours * 1e3:8.1f} ms  ({ours * per:5.1f} us/chunk, median)")
    print(f"  ratio of the medians      : {ours / bare:8.3f}")
    print(
        f"  ratio ours/bare (pairwise): {ratio:8.3f}  (target <= {TARGET})  {'OK' if ratio <= TARGET else 'OVER'}"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

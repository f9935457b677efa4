"""Streaming /v1/chat/completions tokens/s: our embedded server against llama-cpp-python's own OpenAI server.

Both servers run as their own processes, started here, on the same GGUF with the same n_ctx, threads and
batch size: `python -m core.embedded --port P` (what `iav3-serve` runs) and `python -m llama_cpp.server
--model X.gguf --port Q ...` (verbose off, so it prints nothing per request). Both are sent the very same
request by the official `openai` client (stream, include_usage, temperature 0, seed 7, top_p 1, top_k 40,
min_p 0, repeat_penalty 1, `--tokens` max_tokens), in interleaved rounds (the order alternates each round) so
machine load hits both alike. Tokens are counted the same way on both sides, by tokenizing each streamed
reply with the model's own vocabulary (llama-cpp-python's server sends no usage in a stream; ours does, and
it is printed beside as a check). Reported per side, medians over the rounds: decode tokens/s seen by the
client (tokens after the first / time from first to last token), end-to-end tokens/s (tokens / whole request,
prompt and connection included) and time to first token. Target: ours/theirs decode ratio >= 1.0.

Needs llama-cpp-python's server extras: pip install fastapi sse-starlette starlette-context pydantic-settings
(all in our `dev` extra).

    python bench/openai_tps.py [--model smollm2:135m] [--tokens 256] [--rounds 7] [--num-ctx 4096]
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import psutil

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.embedded.llama_engine import LlamaEngine, physical_cores  # noqa: E402

__all__ = ["main"]

TARGET = 1.0
MESSAGES = [{"role": "user", "content": "Write a long story about a lighthouse keeper and a storm."}]


@dataclass
class Run:
    """One streamed chat completion as the client saw it."""

    text: str
    tokens: int
    decode_tps: float  # (tokens - 1) / (last content chunk - first content chunk)
    e2e_tps: float  # tokens / (last content chunk - request sent)
    ttft: float  # seconds from request sent to first content chunk
    usage: int | None  # completion_tokens the server reported (ours), None when it sent no usage
    cpu_ms: float = 0.0  # CPU time of the server process (all its threads) per token, in ms


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(command: list[str], probe: str, ready: str, name: str, log: Path) -> subprocess.Popen:
    """Start a server process and wait until `probe` answers with `ready` in its body."""
    out = log.open("w")
    proc = subprocess.Popen(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, env=dict(os.environ))
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"{name} exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            answer = httpx.get(probe, timeout=2, trust_env=False)
            if answer.status_code == 200 and ready in answer.text:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise SystemExit(f"{name} did not answer at {probe} within 120 s:\n{log.read_text()[-3000:]}")


def _stop(proc: subprocess.Popen) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def measure(client, model: str, tokens: int, count, server: psutil.Process | None = None) -> Run:  # noqa: ANN001
    """One streamed completion with the benchmark's settings (`client`: openai.OpenAI; `count`: a tokenizer)."""
    cpu_before = sum(server.cpu_times()[:2]) if server else 0.0
    started = time.perf_counter()
    stream = client.chat.completions.create(
        model=model,
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
        max_tokens=tokens,
        temperature=0,
        seed=7,
        top_p=1.0,
        extra_body={"top_k": 40, "min_p": 0.0, "repeat_penalty": 1.0},
    )
    first = last = 0.0
    parts: list[str] = []
    usage = None
    for chunk in stream:
        if chunk.usage is not None:
            usage = chunk.usage.completion_tokens
        if chunk.choices and chunk.choices[0].delta.content:
            last = time.perf_counter()
            first = first or last
            parts.append(chunk.choices[0].delta.content)
    cpu = sum(server.cpu_times()[:2]) - cpu_before if server else 0.0
    text = "".join(parts)
    n = count(text)
    return Run(
        text, n, (n - 1) / (last - first), n / (last - started), first - started, usage, 1000 * cpu / n
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2:135m", help="a bundled chat model (default smollm2:135m)")
    parser.add_argument("--tokens", type=int, default=256, help="max_tokens of each request")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument(
        "--num-ctx", type=int, default=4096, help="context size on both servers (ours' default)"
    )
    args = parser.parse_args(argv)

    try:
        import fastapi  # noqa: F401
        import llama_cpp
        import openai
        import sse_starlette  # noqa: F401
    except ImportError as exc:
        print(f"missing {exc.name}: pip install fastapi sse-starlette starlette-context pydantic-settings "
              "openai (the dev extra)", file=sys.stderr)  # fmt: skip
        return 2

    threads = physical_cores()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp)
        card = LlamaEngine(home).find(args.model)
        if card is None:
            print(f"model {args.model!r} is not available in the embedded backend", file=sys.stderr)
            return 2
        vocab = llama_cpp.Llama(card.path, vocab_only=True, verbose=False)

        def count(text: str) -> int:
            return len(vocab.tokenize(text.encode("utf-8"), add_bos=False, special=True))

        ours_port, theirs_port = _free_port(), _free_port()
        ours_cmd = [sys.executable, "-m", "core.embedded", "--port", str(ours_port), "--home", str(home)]
        theirs_cmd = [
            sys.executable, "-m", "llama_cpp.server", "--model", card.path, "--model_alias", args.model,
            "--port", str(theirs_port), "--n_ctx", str(args.num_ctx), "--n_threads", str(threads),
            "--n_threads_batch", str(threads), "--n_batch", "512", "--verbose", "False",
        ]  # fmt: skip
        ours = _start(ours_cmd, f"http://127.0.0.1:{ours_port}/", "Ollama is running", "core.embedded",
                      home / "ours.log")  # fmt: skip
        try:
            theirs = _start(theirs_cmd, f"http://127.0.0.1:{theirs_port}/v1/models", args.model,
                            "llama_cpp.server", home / "theirs.log")  # fmt: skip
        except BaseException:
            _stop(ours)
            raise
        clients = {
            "ours": openai.OpenAI(base_url=f"http://127.0.0.1:{ours_port}/v1", api_key="none", max_retries=0),
            "llama-cpp-python": openai.OpenAI(
                base_url=f"http://127.0.0.1:{theirs_port}/v1", api_key="none", max_retries=0
            ),
        }
        print(f"model {args.model} ({card.path})")
        print(f"  ours:   {' '.join(ours_cmd[1:])}")
        print(f"  theirs: {' '.join(theirs_cmd[1:])}")
        print(f"  n_ctx {args.num_ctx}, {threads} threads, n_batch 512, max_tokens {args.tokens}, temperature 0, "
              f"seed 7, {args.rounds} interleaved rounds, load average {os.getloadavg()[0]:.1f}")  # fmt: skip
        processes = {"ours": psutil.Process(ours.pid), "llama-cpp-python": psutil.Process(theirs.pid)}
        runs: dict[str, list[Run]] = {name: [] for name in clients}
        try:
            for client in clients.values():  # warm-up: load the model and page its weights in
                measure(client, args.model, 8, count)
            for round_no in range(args.rounds):
                order = list(clients) if round_no % 2 == 0 else list(reversed(clients))
                for name in order:
                    runs[name].append(measure(clients[name], args.model, args.tokens, count, processes[name]))
                o, t = runs["ours"][-1], runs["llama-cpp-python"][-1]
                same = "same text" if o.text == t.text else "texts differ"
                print(f"  round {round_no + 1}: ours {o.decode_tps:6.1f} tok/s ({o.tokens} tokens, usage says "
                      f"{o.usage})   llama-cpp-python {t.decode_tps:6.1f} tok/s ({t.tokens} tokens)   {same}")  # fmt: skip
        finally:
            for client in clients.values():
                client.close()
            _stop(ours)
            _stop(theirs)

    def median(name: str, field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs[name])

    o_dec, t_dec = median("ours", "decode_tps"), median("llama-cpp-python", "decode_tps")
    o_e2e, t_e2e = median("ours", "e2e_tps"), median("llama-cpp-python", "e2e_tps")
    o_ttft, t_ttft = median("ours", "ttft"), median("llama-cpp-python", "ttft")
    pairs = [o.decode_tps / t.decode_tps for o, t in zip(runs["ours"], runs["llama-cpp-python"], strict=True)]
    print(f"decode tok/s      ours {o_dec:7.1f}   llama-cpp-python {t_dec:7.1f}   ratio {o_dec / t_dec:.3f}   "
          f"(median of per-round ratios {statistics.median(pairs):.3f})")  # fmt: skip
    print(f"end-to-end tok/s  ours {o_e2e:7.1f}   llama-cpp-python {t_e2e:7.1f}   ratio {o_e2e / t_e2e:.3f}")
    print(f"first token (s)   ours {o_ttft:7.3f}   llama-cpp-python {t_ttft:7.3f}")
    o_cpu, t_cpu = median("ours", "cpu_ms"), median("llama-cpp-python", "cpu_ms")
    print(
        f"server CPU ms/token ours {o_cpu:5.2f}   llama-cpp-python {t_cpu:5.2f}   (all threads, prompt included)"
    )
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    verdict = "meets" if o_dec / t_dec >= TARGET else "misses"
    print(f"target decode ratio >= {TARGET}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generation tokens/s through the embedded server and our client, against llama-cpp-python called directly.

Both sides run the same GGUF with the same n_ctx, threads, seed, temperature 0 and token budget, in this one
process, interleaved (the order alternates each round) so machine load hits both alike. Reported per side:
decode tokens/s seen by the consumer (tokens after the first / time from first to last token), end-to-end
tokens/s (tokens / request time, prompt included) and, for the server, its own eval_count/eval_duration.
Target: embedded/direct decode ratio >= 0.9. The direct calls run on one persistent worker thread, as the
server's generations do: llama.cpp here is built with OpenMP, and calling it from differently managed threads
(a new thread per request on one side, one long-lived thread on the other) skewed the comparison several-fold.

    python bench/embedded_tps.py [--model gemma3:270m] [--mode generate|chat] [--tokens 256] [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.embedded.llama_engine import LlamaEngine, physical_cores  # noqa: E402
from core.embedded.server import EmbeddedServer  # noqa: E402
from core.ollama_client import ContentChunk, FinalChunk, OllamaClient  # noqa: E402

__all__ = ["main"]

TARGET = 0.9
PROMPT = "The history of the printing press begins"
MESSAGES = [{"role": "user", "content": "Write a long story about a lighthouse keeper and a storm."}]


@dataclass
class Run:
    """One measured generation."""

    tokens: int
    decode_tps: float  # (tokens - 1) / (last token time - first token time)
    e2e_tps: float  # tokens / whole request time
    server_tps: float | None = None  # eval_count / eval_duration reported by the server


def direct_run(llama, mode: str, options: dict, tokens: int) -> Run:
    """llama-cpp-python's own streaming API with the same settings."""
    kwargs = dict(
        max_tokens=tokens,
        temperature=0.0,
        seed=options["seed"],
        top_k=options["top_k"],
        top_p=options["top_p"],
        min_p=0.0,
        repeat_penalty=1.0,
        stream=True,
    )
    start = time.perf_counter()
    first = last = 0.0
    count = 0
    if mode == "chat":
        stream = llama.create_chat_completion(messages=MESSAGES, **kwargs)
        pieces = (c["choices"][0]["delta"].get("content") for c in stream)
    else:
        stream = llama.create_completion(PROMPT, **kwargs)
        pieces = (c["choices"][0]["text"] for c in stream)
    for piece in pieces:
        if not piece:
            continue
        last = time.perf_counter()
        first = first or last
        count += 1
    return Run(count, (count - 1) / (last - first), count / (last - start))


def embedded_run(client: OllamaClient, model: str, mode: str, options: dict) -> Run:
    """The same request through EmbeddedServer and core.ollama_client."""
    start = time.perf_counter()
    first = last = 0.0
    if mode == "chat":
        stream = client.chat_stream(model, MESSAGES, options=options)
    else:
        stream = client.generate_stream(model, PROMPT, raw=True, options=options)
    stats = None
    with stream:
        for chunk in stream:
            if isinstance(chunk, ContentChunk) and chunk.text:
                last = time.perf_counter()
                first = first or last
            elif isinstance(chunk, FinalChunk):
                stats = chunk.stats
    count = stats.eval_count or 0
    return Run(count, (count - 1) / (last - first), count / (last - start), stats.gen_tps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gemma3:270m")
    parser.add_argument("--mode", choices=("generate", "chat"), default="generate")
    parser.add_argument("--tokens", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--num-ctx", type=int, default=2048)
    args = parser.parse_args(argv)

    import llama_cpp

    threads = physical_cores()
    options = {"num_ctx": args.num_ctx, "num_predict": args.tokens, "temperature": 0, "seed": 7,
               "top_k": 40, "top_p": 0.9, "num_thread": threads}  # fmt: skip
    with tempfile.TemporaryDirectory() as home:
        engine = LlamaEngine(Path(home), n_threads=threads)
        card = engine.find(args.model)
        if card is None:
            print(f"model {args.model!r} is not available in the embedded backend", file=sys.stderr)
            return 2
        llama = llama_cpp.Llama(card.path, n_ctx=args.num_ctx, n_threads=threads, n_threads_batch=threads,
                                n_batch=512, verbose=False)  # fmt: skip
        server = EmbeddedServer(engine)
        url = server.start()
        client = OllamaClient(url)
        print(f"model {args.model} ({card.path}), mode {args.mode}, {args.tokens} tokens, n_ctx {args.num_ctx}, "
              f"{threads} threads, temperature 0, seed 7, {args.rounds} interleaved rounds")  # fmt: skip
        worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="direct-llama")

        def direct_call(tokens: int) -> Run:
            return worker.submit(direct_run, llama, args.mode, options, tokens).result()

        direct_call(8)  # warm-up: page the weights in on both sides
        embedded_run(client, args.model, args.mode, {**options, "num_predict": 8})
        direct: list[Run] = []
        embedded: list[Run] = []
        for round_no in range(args.rounds):
            order = ("direct", "embedded") if round_no % 2 == 0 else ("embedded", "direct")
            for side in order:
                if side == "direct":
                    direct.append(direct_call(args.tokens))
                else:
                    embedded.append(embedded_run(client, args.model, args.mode, options))
            d, e = direct[-1], embedded[-1]
            print(f"  round {round_no + 1}: direct {d.decode_tps:6.1f} tok/s ({d.tokens} tokens)   "
                  f"embedded {e.decode_tps:6.1f} tok/s ({e.tokens} tokens, server says {e.server_tps:.1f})")  # fmt: skip
        worker.shutdown()
        client.close()
        server.stop()
        llama.close()

    def median(runs: list[Run], field: str) -> float:
        return statistics.median(getattr(r, field) for r in runs)

    d_dec, e_dec = median(direct, "decode_tps"), median(embedded, "decode_tps")
    d_e2e, e_e2e = median(direct, "e2e_tps"), median(embedded, "e2e_tps")
    print(f"decode tok/s     direct {d_dec:7.1f}   embedded+client {e_dec:7.1f}   ratio {e_dec / d_dec:.3f}")
    print(f"end-to-end tok/s direct {d_e2e:7.1f}   embedded+client {e_e2e:7.1f}   ratio {e_e2e / d_e2e:.3f}")
    print(f"server-reported eval tok/s (median) {median(embedded, 'server_tps'):.1f}")
    verdict = "meets" if e_dec / d_dec >= TARGET else "misses"
    print(f"target decode ratio >= {TARGET}: {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

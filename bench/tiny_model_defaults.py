"""Do the bundled chat model's own defaults end the replies that loop under Ollama's generic defaults?

SmolLM2-135M-Instruct (`smollm2:135m`) sampled with Ollama's generic options (api/types.go DefaultOptions:
temperature 0.8, top_k 40, top_p 0.9, repeat_penalty 1.0, num_predict -1) can fall into a loop that only the
end of the context stops. Short French questions with a word in another script, as a new user types them,
are asked through the real embedded server and the official client, once with those generic options sent
explicitly and once with none (the model's own defaults, core.embedded.catalog.BUNDLED_DEFAULTS), for the
same seeds, side by side. Printed: per question and seed the tokens, seconds and done_reason of both; then
how many replies ran to the context's end, the longest and the median reply, and the total time.

    python bench/tiny_model_defaults.py [--seeds 1,2,3,4,5,6] [--num-ctx 4096] [--questions 0,1,2,3,4]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

__all__ = ["GENERIC", "QUESTIONS", "main"]

QUESTIONS = [
    "Que veut dire « ありがとう » en français ?",
    "C'est quoi 東京 ?",
    "Comment on dit « merci » en 日本語 ?",
    "Pourquoi le mot «Москва» s'écrit comme ça ?",
    "Qu'est-ce que 北京 en français ?",
]
GENERIC = {"temperature": 0.8, "top_k": 40, "top_p": 0.9, "repeat_penalty": 1.0, "num_predict": -1}


def _ask(client, question: str, seed: int, num_ctx: int, generic: bool) -> tuple[int, float, str]:
    options = {**(GENERIC if generic else {}), "seed": seed, "num_ctx": num_ctx}
    started = time.perf_counter()
    reply = client.chat("smollm2:135m", messages=[{"role": "user", "content": question}], options=options)
    return reply.eval_count or 0, time.perf_counter() - started, reply.done_reason or ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,2,3,4,5,6")
    parser.add_argument("--questions", default=",".join(str(i) for i in range(len(QUESTIONS))))
    parser.add_argument("--num-ctx", type=int, default=4096, help="the app's default context: 4096")
    args = parser.parse_args(argv)
    import ollama

    from core.embedded.llama_engine import LlamaEngine
    from core.embedded.server import EmbeddedServer

    seeds = [int(s) for s in args.seeds.split(",")]
    questions = [QUESTIONS[int(i)] for i in args.questions.split(",")]
    home = Path(tempfile.mkdtemp(prefix="ia-defaults-"))
    server = EmbeddedServer(LlamaEngine(home, ollama_models=False))
    client = ollama.Client(host=server.start())
    print(f"load average {os.getloadavg()[0]:.1f}; num_ctx {args.num_ctx}", flush=True)
    print(
        f"{'question':<46} {'seed':>4} | {'generic: tokens   s  end':>26} | {'model defaults: tokens   s  end':>33}"
    )
    runs: dict[bool, list[tuple[int, float, str]]] = {True: [], False: []}
    try:
        for question in questions:
            for seed in seeds:
                row = []
                for generic in (True, False):  # side by side, same seed
                    result = _ask(client, question, seed, args.num_ctx, generic)
                    runs[generic].append(result)
                    row.append(f"{result[0]:>6} {result[1]:>6.1f} {result[2]:>6}")
                print(f"{question:<46} {seed:>4} | {row[0]:>26} | {row[1]:>33}", flush=True)
    finally:
        server.stop()
    for generic, label in ((True, "Ollama's generic defaults"), (False, "smollm2's own defaults")):
        tokens = [t for t, _s, _e in runs[generic]]
        loops = sum(1 for _t, _s, end in runs[generic] if end == "length")
        seconds = sum(s for _t, s, _e in runs[generic])
        print(
            f"{label:<26}: {loops} of {len(tokens)} replies cut by a limit (context end or num_predict); longest {max(tokens)} "
            f"tokens, median {statistics.median(tokens):.0f}; {seconds:.0f} s in all"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())

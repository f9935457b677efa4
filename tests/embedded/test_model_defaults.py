"""Sane defaults on the embedded backend.

Ollama's generic options apply exactly, as Ollama v0.33 (the version this server speaks, api/types.go
DefaultOptions) sets them: temperature 0.8, top_k 40, top_p 0.9, typical_p 1.0, repeat_last_n 64,
repeat_penalty 1.0 (1.1 until Ollama v0.32.10, commit 6a261db "stop applying repeat_penalty 1.1 to models that
don't set one"), presence and frequency penalties 0, seed -1, num_predict -1, num_batch 512. A model's own
defaults (its params layer; the bundled chat model's core.embedded.catalog.BUNDLED_DEFAULTS) go over them and
the request's options over both. SmolLM2-135M with the generic options loops on a short French question with
a word in another script; with its own defaults (repeat_penalty 1.1 among them) fewer of the same replies loop.
Measured over seeds 1 to 15 (num_ctx 384): the generic defaults loop on seeds 2, 6, 7 and 10, its own on 1 and
10 (a run of one full-width semicolon; a penalty strong enough to stop that, 1.2, would also penalise the
repeated tokens code is made of). The test asks the four seeds where the generic defaults loop."""

from __future__ import annotations

import dataclasses

import ollama
import pytest

from core.embedded.catalog import BUNDLED_DEFAULTS
from core.embedded.decoding import Sampling

QUESTION = "Que veut dire « ありがとう » en français ?"  # as a new user typed it in the app
GENERIC = {"temperature": 0.8, "top_k": 40, "top_p": 0.9, "repeat_penalty": 1.0, "num_predict": -1}
COUNT = [{"role": "user", "content": "Count from 1 to 20 separated by commas."}]


def test_the_generic_defaults_are_ollama_v0_33s():
    defaults = {f.name: f.default for f in dataclasses.fields(Sampling)}
    assert defaults == {
        "temperature": 0.8, "top_p": 0.9, "top_k": 40, "min_p": 0.0, "typical_p": 1.0, "repeat_penalty": 1.0,
        "presence_penalty": 0.0, "frequency_penalty": 0.0, "mirostat": 0, "mirostat_tau": 5.0,
        "mirostat_eta": 0.1, "seed": -1, "num_predict": -1,
    }  # fmt: skip
    assert BUNDLED_DEFAULTS["smollm2:135m"]["repeat_penalty"] == 1.1


@pytest.mark.model
def test_the_bundled_chat_models_defaults_are_shown_and_reach_llama_cpp(embedded_server):
    import httpx

    shown = httpx.post(f"{embedded_server.url}/api/show", json={"model": "smollm2:135m"}, timeout=60).json()
    assert "repeat_penalty                 1.1" in shown["parameters"]
    assert "temperature                    0.2" in shown["parameters"]
    client = ollama.Client(host=embedded_server.url)
    engine = embedded_server.engine

    def reply(**options) -> str:
        return client.chat(
            "smollm2:135m", messages=COUNT, options={"temperature": 0, "num_predict": 40, **options}
        )["message"]["content"]

    default = reply()
    assert engine.runs[-1].sampling.repeat_penalty == 1.1 and engine.runs[-1].sampling.temperature == 0
    # What llama.cpp did shows the penalty was applied: the same greedy reply as with 1.1 asked for, and not
    # the one without it.
    assert default == reply(repeat_penalty=1.1)
    assert default != reply(repeat_penalty=1.0)


@pytest.mark.model
@pytest.mark.timeout(900)  # about 1,500 tokens in all: 30 s on a quiet 2-core machine, minutes under load
def test_a_french_question_loops_less_under_the_models_own_defaults(embedded_server):
    client = ollama.Client(host=embedded_server.url)
    messages = [{"role": "user", "content": QUESTION}]
    generic, own = [], []
    for seed in (2, 6, 7, 10):
        common = {"seed": seed, "num_ctx": 384}  # a loop fills these 384 tokens as it filled the app's 4,096
        generic.append(client.chat("smollm2:135m", messages=messages, options={**GENERIC, **common}))
        own.append(client.chat("smollm2:135m", messages=messages, options=common))
    looped = [r for r in generic if r.done_reason == "length"]
    assert looped, [
        (r.eval_count, r.done_reason) for r in generic
    ]  # the loop, reproduced: it fills the context
    assert all(r.eval_count > 300 for r in looped)
    still = [r for r in own if r.done_reason == "length"]
    assert len(still) < len(looped), [(r.eval_count, r.done_reason) for r in own]
    assert sum(r.eval_count for r in own) < sum(r.eval_count for r in generic)

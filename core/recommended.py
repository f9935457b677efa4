"""Models worth pulling on this machine: a short list for its class (an 8 GB GPU, a CPU with enough RAM, a small
machine), each with its fit verdict, named for the backend in use: an Ollama library name on Ollama, an
`hf.co/…` GGUF (Q4_K_M) on the embedded backend, which pulls from Hugging Face.

Sizes are those of the Q4_K_M downloads (Ollama's library, and the Hugging Face file), rounded; they are what
the fit verdict is judged from, as for installed models.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from core.i18n import N_, _
from core.machine import GIB, FitVerdict, MachineResources, fits
from core.model_records import ModelInfo
from core.translated import TranslatedTable

__all__ = ["CATALOGUE", "TIERS", "Recommendation", "Recommended", "machine_class", "recommend"]

GB = 1000**3
MB = 1000**2


@dataclass(frozen=True)
class Recommendation:
    """One model, by its names and download sizes on both backends, and what it is good at."""

    ollama: str  # "qwen3:8b"
    hf: str  # "hf.co/unsloth/Qwen3-8B-GGUF:Q4_K_M"
    ollama_size: int
    hf_size: int
    parameters: str  # "8B"
    purpose: str  # a few words, in English (marked with N_)

    @property
    def good_at(self) -> str:
        """What it is good at, in the interface's language."""
        return _(self.purpose)

    def name_for(self, backend: str) -> str:
        return self.hf if backend == "embedded" else self.ollama

    def size_for(self, backend: str) -> int:
        return self.hf_size if backend == "embedded" else self.ollama_size


def _r(ollama: str, hf: str, ollama_size: int, hf_size: int, parameters: str, purpose: str) -> Recommendation:
    return Recommendation(ollama, hf, ollama_size, hf_size, parameters, purpose)


# The "top 5" of each machine class, best first.
CATALOGUE: dict[str, list[Recommendation]] = {
    "gpu8": [
        _r("qwen3:8b", "hf.co/unsloth/Qwen3-8B-GGUF:Q4_K_M", 5200 * MB, 5030 * MB, "8B", N_("chat and reasoning")),
        _r("llama3.1:8b", "hf.co/bartowski/Meta-Llama-3.1-8B-Instruct-GGUF:Q4_K_M", 4900 * MB, 4920 * MB, "8B",
           N_("general chat")),
        _r("qwen2.5-coder:7b", "hf.co/bartowski/Qwen2.5-Coder-7B-Instruct-GGUF:Q4_K_M", 4700 * MB, 4680 * MB,
           "7B", N_("code")),
        _r("gemma3:4b", "hf.co/bartowski/google_gemma-3-4b-it-GGUF:Q4_K_M", 3300 * MB, 2490 * MB, "4B",
           N_("chat, many languages")),
        _r("mistral:7b", "hf.co/bartowski/Mistral-7B-Instruct-v0.3-GGUF:Q4_K_M", 4400 * MB, 4370 * MB, "7B",
           N_("general chat")),
    ],
    "cpu": [
        _r("qwen3:4b", "hf.co/unsloth/Qwen3-4B-GGUF:Q4_K_M", 2500 * MB, 2500 * MB, "4B", N_("chat and reasoning")),
        _r("llama3.2:3b", "hf.co/bartowski/Llama-3.2-3B-Instruct-GGUF:Q4_K_M", 2000 * MB, 2020 * MB, "3B",
           N_("general chat")),
        _r("qwen2.5-coder:3b", "hf.co/bartowski/Qwen2.5-Coder-3B-Instruct-GGUF:Q4_K_M", 1900 * MB, 1930 * MB,
           "3B", N_("code")),
        _r("phi4-mini:3.8b", "hf.co/bartowski/microsoft_Phi-4-mini-instruct-GGUF:Q4_K_M", 2500 * MB, 2490 * MB,
           "3.8B", N_("reasoning, English")),
        _r("gemma3:1b", "hf.co/unsloth/gemma-3-1b-it-GGUF:Q4_K_M", 815 * MB, 806 * MB, "1B",
           N_("quick answers, many languages")),
    ],
    "small": [
        _r("qwen3:1.7b", "hf.co/unsloth/Qwen3-1.7B-GGUF:Q4_K_M", 1400 * MB, 1110 * MB, "1.7B", N_("chat and reasoning")),
        _r("llama3.2:1b", "hf.co/bartowski/Llama-3.2-1B-Instruct-GGUF:Q4_K_M", 1300 * MB, 808 * MB, "1B",
           N_("general chat")),
        _r("gemma3:1b", "hf.co/unsloth/gemma-3-1b-it-GGUF:Q4_K_M", 815 * MB, 806 * MB, "1B",
           N_("quick answers, many languages")),
        _r("qwen3:0.6b", "hf.co/unsloth/Qwen3-0.6B-GGUF:Q4_K_M", 523 * MB, 397 * MB, "0.6B", N_("the smallest that reasons")),
        _r("qwen2.5:0.5b", "hf.co/Qwen/Qwen2.5-0.5B-Instruct-GGUF:Q4_K_M", 398 * MB, 491 * MB, "0.5B",
           N_("tiny, fast")),
    ],
}  # fmt: skip


# Each machine class as the list names it ("For a small machine, ..."), in the interface's language.
TIERS: Mapping[str, str] = TranslatedTable(
    {"gpu8": N_("a GPU with 8 GB"), "cpu": N_("a CPU with enough RAM"), "small": N_("a small machine")}
)


@dataclass(frozen=True)
class Recommended:
    """One entry of the list shown: the name to pull on this backend, its verdict, and whether it is here."""

    name: str
    model: Recommendation
    size: int
    verdict: FitVerdict
    installed: bool


def machine_class(res: MachineResources, *, gpu_usable: bool) -> str:
    """ "gpu8" with a usable GPU of 6 GiB free or more, "cpu" with 12 GiB of RAM or more, else "small"."""
    best = max((g.memory_free for g in res.gpus), default=0)
    if gpu_usable and best >= 6 * GIB:
        return "gpu8"
    if res.ram_total >= 12 * GIB and res.ram_available >= 4 * GIB:
        return "cpu"
    return "small"


def recommend(
    res: MachineResources, *, backend: str, gpu_usable: bool, installed: set[str] | None = None
) -> tuple[str, list[Recommended]]:
    """This machine's class ("gpu8" | "cpu" | "small") and its five models named for `backend` ("ollama" or
    "embedded"), each judged against `res`; `installed` (model names) marks those already there."""
    tier = machine_class(res, gpu_usable=gpu_usable)
    have = {_full(n) for n in installed or set()}
    entries = []
    for model in CATALOGUE[tier]:
        name, size = model.name_for(backend), model.size_for(backend)
        info = ModelInfo(name, size, "", None, "", model.parameters, "Q4_K_M")
        entries.append(
            Recommended(name, model, size, fits(info, res, gpu_usable=gpu_usable), _full(name) in have)
        )
    return tier, entries


def _full(name: str) -> str:
    name = name.lower()
    return name if ":" in name.rsplit("/", 1)[-1] else f"{name}:latest"

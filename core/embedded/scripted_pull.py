"""Scripts and records for pulls on the ScriptedEngine: which layers a pull reports, and how it ended.

A PullScript lists steps; the engine wraps them in Ollama's sequence (Ollama's API reference, "Pull a Model"): "pulling manifest"
first, then the steps, then "verifying sha256 digest", "writing manifest", ["removing unused layers"], "success".
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from core.embedded.engine import ModelCard

__all__ = ["MANIFEST_MISSING", "Layer", "PullRecord", "PullScript", "default_layers", "layer_digest"]

# Ollama's text when the registry has no such model.
MANIFEST_MISSING = "pull model manifest: file does not exist"


@dataclass(frozen=True)
class Layer:
    """One blob: `size` bytes reported in `parts` progress lines, each after `pace` seconds (cancellable)."""

    size: int
    parts: int = 4
    pace: float = 0.0
    digest: str = ""  # 64 hex characters; derived from the model name and the layer's place when empty


@dataclass
class PullScript:
    """One pull: its steps (Layer, Delay, Stall, a bare status str, ErrorLine, MalformedLine, Drop) in order.

    `card` is the model installed on success (default: a scripted model of the pulled name); `prune` adds
    Ollama's "removing unused layers" line (a pull that replaces an existing model).
    """

    steps: Sequence[Any] = ()
    card: ModelCard | None = None
    prune: bool = False


@dataclass
class PullRecord:
    """How one pull went, for assertions: lines sent, reached success, or stopped because the client left."""

    model: str
    lines: int = 0
    finished: bool = False
    stopped_by_cancel: bool = False  # the connection closed (or the request was cancelled) before the end
    started: float = field(default_factory=time.monotonic)
    ended: float | None = None


def layer_digest(model: str, index: int) -> str:
    """A stable 64-hex digest for the index-th layer of `model`."""
    return hashlib.sha256(f"{model}#layer{index}".encode()).hexdigest()


def default_layers(card: ModelCard) -> list[Layer]:
    """What a registry pull of `card` transfers: the weights, then small template and parameter blobs."""
    return [Layer(card.size, parts=4), Layer(1_429, parts=1), Layer(96, parts=1)]

"""Embedded Ollama-compatible backend: a loopback HTTP server (Starlette + uvicorn) in front of an engine.

Importing this package, or one of its light modules (engine, protocol, prompts, catalog's constants), loads
neither Starlette, uvicorn nor llama-cpp-python: the names below are imported from their modules on first
use, so a caller that needs a constant or a record type does not pay for the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.embedded.app import build_app
    from core.embedded.engine import Engine, EngineError, ModelCard
    from core.embedded.llama_engine import LlamaEngine
    from core.embedded.scripted import Script, ScriptedEngine
    from core.embedded.server import EmbeddedServer

__all__ = [
    "EmbeddedServer",
    "Engine",
    "EngineError",
    "LlamaEngine",
    "ModelCard",
    "Script",
    "ScriptedEngine",
    "build_app",
]

_WHERE = {
    "EmbeddedServer": "core.embedded.server",  # uvicorn, Starlette, httpx
    "Engine": "core.embedded.engine",
    "EngineError": "core.embedded.engine",
    "LlamaEngine": "core.embedded.llama_engine",  # llama-cpp-python
    "ModelCard": "core.embedded.engine",
    "Script": "core.embedded.scripted",
    "ScriptedEngine": "core.embedded.scripted",
    "build_app": "core.embedded.app",  # Starlette
}


def __getattr__(name: str) -> object:
    """Import a public name from its module the first time it is asked for."""
    if name not in _WHERE:
        raise AttributeError(f"module 'core.embedded' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

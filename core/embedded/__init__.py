"""Embedded Ollama-compatible backend: a loopback HTTP server (Starlette + uvicorn) in front of an engine."""

from __future__ import annotations

from core.embedded.app import build_app
from core.embedded.engine import Engine, EngineError, ModelCard
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


def __getattr__(name: str) -> object:
    """LlamaEngine needs llama-cpp-python, so it is imported only when asked for."""
    if name == "LlamaEngine":
        from core.embedded.llama_engine import LlamaEngine

        return LlamaEngine
    raise AttributeError(name)

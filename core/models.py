"""The model manager: list, inspect, pull, delete and unload models on the connected server, and the fallback
chain that starts a reply with the first model that loads.

The records it returns are in core.model_records; this machine's resources and fit verdicts in core.machine.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from core.errors import ModelNotFound, ServerError, StreamBroken, StreamStalled
from core.i18n import _, format_number
from core.machine import FitVerdict, MachineResources, fits, llama_gpu_offload, machine_resources
from core.model_records import ModelDetails, ModelInfo, PullProgress, RunningModel
from core.recommended import Recommended, recommend

if TYPE_CHECKING:
    from core.ollama_client import ChatStream, OllamaClient

__all__ = ["ModelManager", "is_out_of_memory", "with_fallback"]

_OOM = re.compile(r"out of memory|more system memory|insufficient memory|not enough memory|cudaMalloc", re.I)


def is_out_of_memory(exc: BaseException) -> bool:
    """True when a server error says the model could not be loaded for lack of memory."""
    return isinstance(exc, ServerError) and bool(_OOM.search(exc.detail or ""))


def with_fallback(
    client: OllamaClient, models: list[str], start: Callable[[str], ChatStream]
) -> tuple[str, ChatStream, list[str]]:
    """Start a stream with the first model that loads; missing or out-of-memory ones fall to the next.

    Blocks until the server accepted the request (first chunk or error), so call it from a worker thread.
    Returns (model used, stream, notes for the user); raises the first model's error when none loads.
    """
    if not models:
        raise ValueError("with_fallback needs at least one model")
    notes: list[str] = []
    first_error: Exception | None = None
    for i, name in enumerate(models):
        stream = start(name)
        try:
            stream.start()
        except (ModelNotFound, ServerError) as exc:
            if not isinstance(exc, ModelNotFound) and not is_out_of_memory(exc):
                raise
            first_error = first_error or exc
            missing = isinstance(exc, ModelNotFound)
            nxt = models[i + 1] if i + 1 < len(models) else None
            if nxt and missing:
                note = _("Model '{name}' is not installed on {host}; trying '{next}' instead.")
            elif nxt:
                note = _("Model '{name}' does not fit in memory on {host}; trying '{next}' instead.")
            elif missing:
                note = _("Model '{name}' is not installed on {host}; no fallback model left.")
            else:
                note = _("Model '{name}' does not fit in memory on {host}; no fallback model left.")
            notes.append(note.format(name=name, host=client.host, next=nxt))
            continue
        if i:
            notes.append(_("Answered with fallback model '{name}'.").format(name=name))
        return name, stream, notes
    assert first_error is not None
    raise first_error


class ModelManager:
    """List, inspect, pull, delete and unload models on the connected server."""

    def __init__(self, client: OllamaClient) -> None:
        self.client = client

    def list(self) -> list[ModelInfo]:
        return self.client.list_models()

    def show(self, name: str) -> ModelDetails:
        return self.client.show(name)

    def running(self) -> list[RunningModel]:
        return self.client.ps()

    def version(self) -> str:
        return self.client.version()

    def fit(
        self, resources: MachineResources | None = None, *, gpu_usable: bool | None = None
    ) -> list[tuple[ModelInfo, FitVerdict]]:
        """Every installed model with whether it fits this machine (its RAM, CPU and GPUs, measured now unless
        ``resources`` is given), in the order the server lists them. One /api/tags request, none per model.
        ``gpu_usable`` defaults to what the server can do: Ollama uses a GPU when there is one; the embedded
        backend only when its llama.cpp was built with GPU support."""
        res = resources if resources is not None else machine_resources()
        usable = self.gpu_usable() if gpu_usable is None else gpu_usable
        return [(model, fits(model, res, gpu_usable=usable)) for model in self.list()]

    def recommended(
        self, resources: MachineResources | None = None, installed: set[str] | None = None
    ) -> tuple[str, list[Recommended]]:
        """The models to suggest for this machine's class (core.recommended), named for this server (Ollama
        names on Ollama, hf.co/… on the embedded backend), each with its fit verdict and whether it is
        installed (``installed``: the names listed, asked of the server when not given)."""
        res = resources if resources is not None else machine_resources()
        have = installed if installed is not None else {m.name for m in self.list()}
        backend = "embedded" if self.client.server_kind == "embedded" else "ollama"
        return recommend(res, backend=backend, gpu_usable=self.gpu_usable(), installed=have)

    def gpu_usable(self) -> bool:
        """Whether the connected server can run models on a GPU of this machine."""
        return self.client.server_kind != "embedded" or llama_gpu_offload()

    def delete(self, name: str) -> None:
        self.client.delete(name)

    def unload(self, name: str) -> None:
        self.client.unload(name)

    def pull(
        self, name: str, on_progress: Callable[[PullProgress], None], cancel: threading.Event | None = None
    ) -> None:
        """Pull a model, reporting each progress line; setting ``cancel`` stops it promptly and quietly."""
        stream = self.client.pull(name)
        done = threading.Event()
        watcher = None
        if cancel is not None:

            def watch() -> None:
                while not done.is_set():
                    if cancel.wait(0.05):
                        stream.cancel()
                        return

            watcher = threading.Thread(target=watch, name="ia-pull-cancel", daemon=True)
            watcher.start()
        try:
            for progress in stream:
                on_progress(progress)
        except (ModelNotFound, StreamBroken, StreamStalled) as exc:
            raise _pull_error(name, exc) from exc
        finally:
            done.set()
            stream.close()
            if watcher is not None:
                watcher.join()


def _pull_error(
    name: str, exc: ModelNotFound | StreamBroken | StreamStalled
) -> ModelNotFound | StreamBroken | StreamStalled:
    """The same error type, worded for a pull (the generic texts speak of installed models and replies)."""
    if isinstance(exc, StreamStalled):
        return StreamStalled(
            exc.seconds,
            exc.phase,
            message=_(
                "The pull of '{name}' stopped: the server sent nothing for {seconds} s. "
                "Check the server's network and try the pull again (what was downloaded is kept by Ollama)."
            ).format(name=name, seconds=format_number(exc.seconds)),
        )
    if isinstance(exc, ModelNotFound):
        where = (
            _("the repository on {site}").format(site="https://huggingface.co")
            if name.lower().startswith(("hf.co/", "huggingface.co/"))
            else "https://ollama.com/library"
        )
        return ModelNotFound(
            name,
            exc.detail,
            message=_(
                "There is no model called '{name}' to pull: check the name (see {where}) and try again."
            ).format(name=name, where=where),
        )
    # The server's own words when it sent an {"error"} line, else how the transfer broke.
    said = getattr(exc.__cause__, "error", None)
    detail = _("the server said: {text}").format(text=said) if isinstance(said, str) and said else exc.detail
    return StreamBroken(
        detail,
        message=_("The pull of '{name}' failed: {detail}. Nothing was installed; try the pull again.").format(
            name=name, detail=detail
        ),
    )

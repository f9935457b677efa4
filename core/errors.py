"""One exception tree for every failure a person may see; messages say what happened and what to do.

```
IAError
├── BackendError
│   ├── ServerUnreachable        nothing answers at the host
│   ├── ModelNotFound            the server does not have the model
│   ├── CapabilityMissing        the model cannot do what was asked (thinking, vision, tools, ...)
│   ├── ServerError              any other HTTP error from the server
│   ├── StreamBroken             error line mid-stream, malformed line, connection dropped before done
│   ├── StreamStalled            no first token / no chunk within the allowed time
│   ├── EmbeddedUnavailable      the embedded backend is not installed or failed to start
│   └── NotSupported             the server's API has no such call (an OpenAI-compatible server cannot pull)
├── StorageError
│   ├── SessionNotFound          no session by that slug or title
│   ├── ConversationCorrupt      a conversation.md that cannot be parsed (left untouched)
│   ├── StorageWriteError        unwritable home, disk full, permission denied
│   └── ImportRefused            a file that is not an export this app reads, or an import that could not
│                                be written (nothing of it is kept)
├── ConfigError                  a settings or profile file or value that is wrong
└── BenchmarkError
    └── SandboxUnavailable       no way to isolate generated code on this machine
```
Messages are converted to output only at the edges (CLI, window); ``exit_code`` maps them for the CLI.
"""

from __future__ import annotations

from pathlib import Path

from core.i18n import N_, _, format_number

__all__ = [
    "BackendError",
    "BenchmarkError",
    "CapabilityMissing",
    "ConfigError",
    "ConversationCorrupt",
    "EXIT_INTERRUPTED",
    "EXIT_LOCAL",
    "EXIT_MODEL_NOT_FOUND",
    "EXIT_SERVER",
    "EXIT_UNREACHABLE",
    "EmbeddedUnavailable",
    "IAError",
    "ImportRefused",
    "ModelNotFound",
    "NotSupported",
    "SandboxUnavailable",
    "ServerError",
    "ServerUnreachable",
    "SessionNotFound",
    "StorageError",
    "StorageWriteError",
    "StreamBroken",
    "StreamStalled",
    "exit_code",
]


class IAError(Exception):
    """Base of every user-visible failure; ``str(e)`` is one sentence a person can act on."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class BackendError(IAError):
    """Something went wrong talking to the model server."""


class ServerUnreachable(BackendError):
    """Nothing answers at the configured host; ``backend`` names what was expected there: "ollama",
    "embedded" (IA_V3's own server, standalone at OLLAMA_HOST or started in the background) or "openai" (an
    OpenAI-compatible server: llama-server, LM Studio, vLLM, ...)."""

    def __init__(self, host: str, detail: str = "", *, backend: str = "ollama") -> None:
        self.host = host
        self.detail = detail
        self.backend = backend
        if backend == "embedded":
            port = host.rstrip("/").rsplit(":", 1)[-1]
            port = port if port.isdigit() else "PORT"
            text = _(
                "Cannot reach IA_V3's embedded backend at {host}: it stopped. If you started it yourself, "
                "start it again (`python -m core.embedded --port {port}`); else restart the chat, which "
                "starts its own."
            ).format(host=host, port=port)
        elif backend == "openai":
            text = _(
                "Cannot reach the OpenAI-compatible server at {host}: is it running? Start it (for example "
                "`llama-server -m MODEL.gguf --port PORT`), or check the address (--host, or the app's backend "
                "panel)."
            ).format(host=host)
        else:
            text = _(
                "Cannot reach Ollama at {host}: is it running? Start it with `ollama serve`, set OLLAMA_HOST, "
                "or use the embedded backend (--embedded)."
            ).format(host=host)
        super().__init__(text + (f" ({detail})" if detail else ""))


class ModelNotFound(BackendError):
    """The server does not have the requested model."""

    def __init__(self, model: str, detail: str = "", *, message: str | None = None) -> None:
        self.model = model
        self.detail = detail
        super().__init__(
            message
            or _(
                "Model '{model}' is not installed on this server: pull it with /pull {model} "
                "(or `ollama pull {model}`), or pick another with /models."
            ).format(model=model)
        )


# What to do when a model lacks a capability; the default is to choose another model (translated when raised).
_CAPABILITY_ADVICE = {
    "thinking": N_(
        "turn thinking off (/set think off in a chat, --no-think for one prompt), or choose a model that thinks"
    ),
    "images": N_("remove the image, or choose a model with vision"),
    "vision": N_("remove the image, or choose a model with vision"),
    "tools": N_("send the request without tools, or choose a model that supports tools"),
    "insert": N_("send the prompt without a suffix, or choose a model that supports insert"),
}


# The capabilities as a message names them (English: the capability itself).
_CAPABILITY_NAMES = {
    "thinking": N_("thinking"),
    "images": N_("images"),
    "vision": N_("vision"),
    "tools": N_("tools"),
    "insert": N_("insert"),
    "completion": N_("completion"),
    "chat": N_("chat"),
    "generate": N_("generate"),
}


class CapabilityMissing(BackendError):
    """The model lacks a capability the request needs (thinking, images, tools, chat, generate, insert)."""

    def __init__(self, model: str, capability: str, detail: str = "") -> None:
        self.model = model
        self.capability = capability
        self.detail = detail
        known = _CAPABILITY_ADVICE.get(capability)
        named = _(_CAPABILITY_NAMES[capability]) if capability in _CAPABILITY_NAMES else capability
        advice = (
            _(known) if known else _("choose a model that supports {capability}").format(capability=named)
        )
        super().__init__(
            _("Model '{model}' does not support {capability}: {advice}.").format(
                model=model, capability=named, advice=advice
            )
        )


class ServerError(BackendError):
    """The server answered with an HTTP error not covered by a more precise type.

    5xx: the server failed (try again, then its log); 501: it does not offer this; other 4xx: it refused this
    request, which sending it again unchanged will not fix (``advice`` says what to change, when known).
    """

    def __init__(self, status: int, detail: str, advice: str = "") -> None:
        self.status = status
        self.detail = detail
        self.advice = advice
        if status == 501:
            head = _("The server does not offer this (HTTP {status}): {detail}.")
            tail = advice or _("use an Ollama server for it")
        elif 400 <= status < 500:
            head = _("The server refused the request (HTTP {status}): {detail}.")
            tail = advice or _("change what was asked (model, options, prompt) and send it again")
        else:
            head = _("The server failed (HTTP {status}): {detail}.")
            tail = advice or _("try again; if it persists, check the server's log")
        super().__init__(f"{head.format(status=status, detail=detail)} {tail[0].upper()}{tail[1:]}.")


class StreamBroken(BackendError):
    """The reply stream ended abnormally: an error line, a malformed line or a dropped connection."""

    def __init__(self, detail: str, *, message: str | None = None) -> None:
        self.detail = detail
        super().__init__(
            message
            or _(
                "The reply was cut off: {detail}. The partial reply is kept; send again or regenerate."
            ).format(detail=detail)
        )


# The phases of a stall (identifiers the stream code passes, in English) as the message names them.
_PHASES = {  # i18n: the keys are identifiers, the values are shown
    "first token": N_("first token"),
    "between chunks": N_("between chunks"),
}


class StreamStalled(BackendError):
    """No data arrived within the allowed time (phase: 'first token' or 'between chunks', kept in English in
    ``phase``; the message names it in the interface's language)."""

    def __init__(self, seconds: float, phase: str, *, message: str | None = None) -> None:
        self.seconds = seconds
        self.phase = phase
        setting = "first_token_timeout" if phase == "first token" else "stall_timeout"  # i18n: phase id
        shown = _(_PHASES[phase]) if phase in _PHASES else phase
        super().__init__(
            message
            or _(
                "The server sent nothing for {seconds} s ({phase}); the request was stopped. "
                "The model may be too large for this machine: try a smaller one or raise the timeout "
                "({setting} in IA_HOME/config.toml)."
            ).format(seconds=format_number(seconds), phase=shown, setting=setting)
        )


class EmbeddedUnavailable(BackendError):
    """The embedded llama.cpp backend cannot be used."""

    def __init__(self, reason: str) -> None:
        from core.locations import extra_install_hint

        self.reason = reason
        super().__init__(
            _("The embedded backend is not available: {reason}. {install}, or run an Ollama server.").format(
                reason=reason, install=extra_install_hint("embedded")
            )
        )


class NotSupported(BackendError):
    """The server cannot do what was asked: the OpenAI API has no such call (pull, delete or unload a model,
    say which models are loaded), or this server lacks one the API has (``why``: no /v1/models);
    ``advice`` says how to get it done another way."""

    def __init__(self, host: str, action: str, advice: str, *, why: str | None = None) -> None:
        self.host = host
        self.action = action
        self.advice = advice
        self.why = why if why is not None else _("the OpenAI API has no such call")
        super().__init__(
            _("The OpenAI-compatible server at {host} cannot {action}: {why}. {advice}").format(
                host=host, action=action, why=self.why, advice=advice
            )
        )


class StorageError(IAError):
    """Reading or writing IA_HOME failed."""


class SessionNotFound(StorageError):
    """No session matches the given slug or title."""

    def __init__(self, name: str) -> None:
        self.name = name
        super().__init__(_("No conversation named '{name}': list them with /sessions.").format(name=name))


class ConversationCorrupt(StorageError):
    """A conversation file cannot be parsed; it is reported and never overwritten."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(
            _(
                "Cannot read {path}: {reason}. The file was left untouched; fix it in an editor or move it away."
            ).format(path=self.path, reason=reason)
        )


class StorageWriteError(StorageError):
    """A write failed (unwritable folder, disk full, permission denied); nothing already saved was lost."""

    def __init__(self, path: Path | str, reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(
            _(
                "Cannot write {path}: {reason}. Free some disk space or fix the folder's permissions "
                "(IA_HOME); what was saved before is intact."
            ).format(path=self.path, reason=reason)
        )


class ImportRefused(StorageError):
    """A file that cannot be imported (not an export this app reads, damaged, too large, no conversation in it),
    or an import that failed while being written; in both cases nothing of it is left in sav/ or the index."""

    def __init__(self, path: Path | str, reason: str, advice: str = "") -> None:
        self.path = Path(path)
        self.reason = reason
        self.advice = advice
        if advice:
            text = _("Cannot import {path}: {reason}. Nothing was imported; {advice}.")
        else:
            text = _("Cannot import {path}: {reason}. Nothing was imported.")
        super().__init__(text.format(path=self.path, reason=reason, advice=advice))


class ConfigError(IAError):
    """A settings file, profile or setting value is wrong."""

    def __init__(self, where: str | Path, reason: str) -> None:
        self.where = str(where)
        self.reason = reason
        super().__init__(_("Bad setting in {where}: {reason}.").format(where=self.where, reason=reason))


class BenchmarkError(IAError):
    """A benchmark run cannot proceed."""


class SandboxUnavailable(BenchmarkError):
    """Generated code cannot be isolated on this machine."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(
            _(
                "Cannot sandbox generated code: {reason}. Install bubblewrap (`apt-get install bubblewrap`)."
            ).format(reason=reason)
        )


EXIT_LOCAL = 1  # a problem on this machine: files (unwritable IA_HOME, full disk, a damaged file), settings
EXIT_UNREACHABLE = 3
EXIT_MODEL_NOT_FOUND = 4
EXIT_SERVER = 5  # any other failure of the model server (or of the request to it)
EXIT_INTERRUPTED = 130


def exit_code(exc: BaseException) -> int:
    """CLI exit code for an error: 1 local files or settings, 3 unreachable, 4 model not found, 5 other
    failure, 130 interrupted (2, bad usage, is argparse's)."""
    if isinstance(exc, KeyboardInterrupt):
        return EXIT_INTERRUPTED
    if isinstance(exc, StorageError | ConfigError):
        return EXIT_LOCAL
    if isinstance(exc, ServerUnreachable | EmbeddedUnavailable):
        return EXIT_UNREACHABLE
    if isinstance(exc, ModelNotFound):
        return EXIT_MODEL_NOT_FOUND
    return EXIT_SERVER

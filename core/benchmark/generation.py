"""Asking a model for one benchmark sample, in either prompting style, and measuring the request.

`chat` sends an instruction asking for the complete function in a fenced block (for instruct models);
`complete` sends the problem's prompt as a raw completion with stop sequences (for base models).
A vision problem (kind "vision") is asked in chat style only: its question as the user message with its
images (PNG bytes, sent base64 in the message's `images`); its sample's `completion` is the answer text.
The reply becomes the sample's `completion` through core.benchmark.samples.extract_reply, the one function
`evaluate` and `rescore` use for a raw reply too ("" when the reply holds no code).
"""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from core.benchmark.extraction import STOP_SEQUENCES, STYLES, build_program
from core.benchmark.metrics import ResourceMonitor, ResourceUsage
from core.benchmark.samples import extract_reply, was_cut
from core.errors import BenchmarkError, CapabilityMissing, IAError, ModelNotFound, ServerUnreachable
from core.i18n import _
from core.ollama_client import ChatStream, OllamaClient, StreamStats

__all__ = [
    "CHAT_INSTRUCTION",
    "STOP_SEQUENCES",
    "STYLES",
    "Sample",
    "build_request",
    "completion_file",
    "generate_sample",
    "is_vision",
    "sample_file",
    "sample_program",
]

CHAT_INSTRUCTION = (
    "Complete the following Python function. Reply with the whole function, including the imports it "
    "needs, in a single ```python fenced code block. Do not add tests, examples or explanations.\n\n"
    "```python\n{prompt}\n```"
)


@dataclass
class Sample:
    """One generated sample: HumanEval samples fields (`task_id`, `completion`) plus our measurements."""

    task_id: str
    completion: str
    sample_index: int
    model: str
    style: str
    host: str
    raw: str = ""
    ttft_s: float | None = None
    gen_tps: float | None = None
    prompt_tps: float | None = None
    load_s: float | None = None
    total_s: float | None = None
    done_reason: str | None = None
    eval_count: int | None = None
    prompt_eval_count: int | None = None
    cpu_percent: float | None = None
    cpu_percent_max: float | None = None
    rss_mb: float | None = None
    ram_percent: float | None = None
    gpu_mem_mb: float | None = None
    error: str | None = None
    code_file: str | None = None
    created: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Sample:
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        return cls(**known)


def is_vision(problem: Any) -> bool:
    """True for a vision problem: asked with its images, answered in words, scored as text."""
    return getattr(problem, "kind", "code") == "vision"


def _image(value: Any) -> Any:
    """PNG bytes for base64 text (our client reads a str as a file path); paths and bytes as they are."""
    if isinstance(value, str) and not value.lower().endswith((".png", ".jpg", ".jpeg", ".webp", ".gif")):
        try:
            return base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            return value
    return value


def _problem_images(problem: Any) -> list[Any]:
    """Images a multimodal problem carries (`images` in its record: paths or base64 strings)."""
    images = getattr(problem, "images", None) or getattr(problem, "extra", {}).get("images")
    return [_image(image) for image in images] if images else []


def build_request(problem: Any, style: str, options: dict[str, Any]) -> tuple[str, Any, dict[str, Any]]:
    """The call to make for a problem: ("chat", messages, options) or ("generate", prompt, options)."""
    if is_vision(problem):
        if style != "chat":
            raise BenchmarkError(
                _(
                    "Vision problems ({task}) are questions about an image asked in a chat message: "
                    "use --style chat, not {style}."
                ).format(task=problem.task_id, style=style)
            )
        message = {"role": "user", "content": problem.prompt, "images": _problem_images(problem)}
        return "chat", [message], dict(options)
    if style == "chat":
        message: dict[str, Any] = {"role": "user", "content": CHAT_INSTRUCTION.format(prompt=problem.prompt)}
        images = _problem_images(problem)
        if images:
            message["images"] = images
        return "chat", [message], dict(options)
    if style == "complete":
        opts = dict(options)
        opts.setdefault("stop", list(STOP_SEQUENCES))  # the server stops early; extraction cuts again
        return "generate", problem.prompt, opts
    raise ValueError(f"unknown prompting style {style!r}: use one of {', '.join(STYLES)}")


def _open_stream(
    client: OllamaClient, model: str, problem: Any, style: str, options: dict, keep_alive: str | int | None
) -> ChatStream:
    kind, payload, opts = build_request(problem, style, options)
    if kind == "chat":
        return client.chat_stream(model, payload, options=opts, keep_alive=keep_alive)
    images = _problem_images(problem) or None
    return client.generate_stream(
        model, payload, raw=True, options=opts, images=images, keep_alive=keep_alive
    )


def _apply_stats(sample: Sample, stats: StreamStats | None) -> None:
    if stats is None:
        return
    sample.ttft_s = stats.ttft_s
    sample.gen_tps = stats.gen_tps
    sample.prompt_tps = stats.prompt_tps
    sample.load_s = stats.load_s
    sample.total_s = stats.total_s
    sample.done_reason = stats.done_reason
    sample.eval_count = stats.eval_count
    sample.prompt_eval_count = stats.prompt_eval_count


def _apply_usage(sample: Sample, usage: ResourceUsage) -> None:
    for key, value in usage.to_dict().items():
        setattr(sample, key, value)


def generate_sample(
    client: OllamaClient,
    model: str,
    problem: Any,
    *,
    style: str,
    options: dict[str, Any],
    index: int,
    monitor: ResourceMonitor | None = None,
    on_stream: Callable[[ChatStream | None], None] | None = None,
    keep_alive: str | int | None = None,
) -> Sample | None:
    """Generate and measure one sample; None when the stream was cancelled (nothing to record).

    Server failures (broken stream, stall, HTTP error) become a sample with `error` set and no code, so a run
    records them and carries on; `ModelNotFound`, `CapabilityMissing` and `ServerUnreachable` propagate.
    """
    sample = Sample(
        task_id=problem.task_id, completion="", sample_index=index, model=model, style=style, host=client.host
    )
    started = time.monotonic()
    stream = _open_stream(client, model, problem, style, options, keep_alive)
    if on_stream is not None:
        on_stream(stream)
    try:
        with stream:
            for _chunk in stream:
                pass
    except (ModelNotFound, CapabilityMissing, ServerUnreachable):
        raise  # every sample would fail the same way: the runner stops (or moves the work to another host)
    except IAError as exc:
        sample.error = str(exc)
    finally:
        if on_stream is not None:
            on_stream(None)
    if sample.error is None and stream.stats is None:  # cancelled: no final chunk, nothing to record
        return None
    sample.raw = stream.text
    _apply_stats(sample, stream.stats)
    if sample.total_s is None:
        sample.total_s = time.monotonic() - started
    if monitor is not None:
        _apply_usage(sample, monitor.usage(started, time.monotonic()))
    if sample.error is None:  # the same extraction `evaluate` and `rescore` apply to a raw reply
        sample.completion = extract_reply(
            problem, sample.raw, style, cut=was_cut(sample.done_reason)
        ).completion
    return sample


def sample_program(problem: Any, sample: Sample) -> str:
    """The runnable code of a sample (prompt + completion), as saved in the run's code/ folder."""
    return build_program(problem, sample.completion)


def sample_file(problem: Any, sample: Sample) -> tuple[str, str, str]:
    """(folder, suffix, text) of the file a run keeps per sample: `code/….py` with the runnable program, or
    `answers/….txt` with a vision answer (text, never run)."""
    return completion_file(problem, sample.completion)


def completion_file(problem: Any, completion: str) -> tuple[str, str, str]:
    """sample_file for a completion (`rescore` rewrites the file of a sample it re-extracted)."""
    if is_vision(problem):
        return "answers", ".txt", completion
    return "code", ".py", build_program(problem, completion)

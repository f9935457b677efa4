"""How the embedded backend turns messages into a prompt.

A GGUF that carries a chat template (tokenizer.chat_template, e.g. SmolLM2-Instruct) is rendered with it
through llama-cpp-python's Jinja2 formatter, like Hugging Face does. A model without one (e.g. Gemma 3 270M
base) gets the documented Gemma turn format:

    <start_of_turn>user
    {system}\n\n{first user message}<end_of_turn>
    <start_of_turn>model
    {assistant reply}<end_of_turn>
    <start_of_turn>user
    {next user message}<end_of_turn>
    <start_of_turn>model

The system prompt, which Gemma has no role for, is put before the first user message, and generation stops
at `<end_of_turn>`. `generate` without `raw` wraps its prompt (and `system`) the same way; `raw` sends it as is.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

__all__ = ["BASE_STOP", "BASE_TEMPLATE", "Prompt", "base_prompt", "template_prompt"]

BASE_STOP = "<end_of_turn>"
# The base format written as a Go template, for /api/show `template`.
BASE_TEMPLATE = (
    '{{- range $i, $_ := .Messages }}<start_of_turn>{{ if eq .Role "assistant" }}model{{ else }}user{{ end }}\n'
    "{{ if and (eq $i 0) $.System }}{{ $.System }}\n\n{{ end }}{{ .Content }}<end_of_turn>\n"
    "{{ end }}<start_of_turn>model\n"
)


@dataclass(frozen=True)
class Prompt:
    """Prompt text, whether it already holds the BOS token, and stop strings implied by the format."""

    text: str
    has_bos: bool
    stop: list[str]


def base_prompt(messages: list[dict[str, Any]]) -> Prompt:
    """The Gemma turn format for models without a chat template."""
    system = "\n\n".join(m["content"] for m in messages if m.get("role") == "system" and m.get("content"))
    parts: list[str] = []
    for message in (m for m in messages if m.get("role") != "system"):
        role = "model" if message.get("role") == "assistant" else "user"
        content = message.get("content") or ""
        if system and not parts:
            content = f"{system}\n\n{content}"
        parts.append(f"<start_of_turn>{role}\n{content}<end_of_turn>\n")
    if not parts and system:
        parts.append(f"<start_of_turn>user\n{system}<end_of_turn>\n")
    return Prompt("".join(parts) + "<start_of_turn>model\n", has_bos=False, stop=[BASE_STOP])


@functools.lru_cache(maxsize=8)
def _formatter(template: str, bos: str, eos: str) -> Any:
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter  # llama-cpp-python is optional: import late

    return Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos)


def template_prompt(template: str, messages: list[dict[str, Any]], bos: str, eos: str) -> Prompt:
    """Render the GGUF's own Jinja chat template with the generation prompt appended."""
    formatter = _formatter(template, bos, eos)
    plain = [{"role": m.get("role", "user"), "content": m.get("content") or ""} for m in messages]
    rendered = formatter(messages=plain)
    return Prompt(
        rendered.prompt, has_bos=bool(bos) and rendered.prompt.startswith(bos), stop=[eos] if eos else []
    )

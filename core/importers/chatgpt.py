"""ChatGPT's ``conversations.json``: ``[{"title", "create_time", "update_time", "current_node", "mapping": {id:
{"parent", "children", "message": {"author": {"role"}, "create_time", "content": {"content_type", "parts"},
"metadata": {"model_slug", ...}, "recipient", "status"}}}}]``. The branch from ``current_node`` up to the root
is imported; the nodes of one assistant turn (thoughts, code a tool ran, its output, the answer, images a tool
made) become one message."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from core.conversation import Message
from core.importers.records import Images, ImportedConversation, finish_conversation, to_time, tree_branch

if TYPE_CHECKING:
    from core.importers.files import Assets

__all__ = ["parse_chatgpt"]


def _gpt_branch(mapping: dict[str, Any], current: Any) -> tuple[list[dict[str, Any]], bool]:
    """The nodes from the root to ``current_node`` (else to the last child of the last child...), and whether
    other nodes with messages exist (edited questions, regenerated replies)."""
    chain, visited = tree_branch(mapping, current, "parent", "children", first_root=True)
    others = any(
        isinstance(n, dict) and isinstance(n.get("message"), dict) and k not in visited
        and _gpt_visible(n["message"])
        for k, n in mapping.items()
    )  # fmt: skip
    return chain, others


def _gpt_visible(message: dict[str, Any]) -> bool:
    meta = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
    role = (message.get("author") or {}).get("role")
    return role in ("user", "assistant") and not meta.get("is_visually_hidden_from_conversation")


def _gpt_parts(content: dict[str, Any]) -> tuple[str, list[str]]:
    """(text, image asset pointers) of a text or multimodal_text message."""
    texts, pointers = [], []
    for part in content.get("parts") or []:
        if isinstance(part, str):
            if part:
                texts.append(part)
        elif isinstance(part, dict):
            pointer = part.get("asset_pointer")
            if isinstance(pointer, str) and pointer:
                pointers.append(pointer)
            elif isinstance(part.get("text"), str) and part["text"]:
                texts.append(part["text"])  # audio transcriptions
    return "\n\n".join(texts), pointers


class _GptReply:
    """An assistant turn being assembled from its nodes: thoughts, tool calls and outputs, the answer."""

    def __init__(self, created: datetime) -> None:
        self.created = created
        self.pieces: list[str] = []
        self.thinking: list[str] = []
        self.images: list[str] = []
        self.model: str | None = None
        self.status = "complete"

    def message(self) -> Message:
        return Message(
            role="assistant",
            content="\n\n".join(self.pieces),
            created=self.created,
            model=self.model,
            thinking="\n\n".join(self.thinking),
            images=self.images,
            status=self.status,
            error="The reply was not finished in ChatGPT." if self.status == "interrupted" else None,
        )


def _fence(text: str, lang: str = "") -> str:
    ticks = "```"
    while ticks in text:
        ticks += "`"
    return f"{ticks}{lang}\n{text.rstrip(chr(10))}\n{ticks}"


def parse_chatgpt(item: dict[str, Any], assets: Assets | None) -> tuple[ImportedConversation, bool, int]:
    """One ChatGPT conversation: the branch from ``current_node`` to the root, each assistant turn merged."""
    mapping = item["mapping"]
    chain, other_branches = _gpt_branch(mapping, item.get("current_node"))
    images = Images()
    messages: list[Message] = []
    reply: _GptReply | None = None
    system_prompt = ""
    lost = 0
    last_time = to_time(item.get("create_time")) or datetime.now(UTC)

    def close_reply() -> None:
        nonlocal reply
        if reply is not None:
            messages.append(reply.message())
            reply = None

    def attach(pointers: list[str]) -> list[str]:
        nonlocal lost
        paths = []
        for pointer in pointers:
            found = assets.find(pointer) if assets is not None else None
            stored = images.add(found[1], found[0]) if found else None
            if stored is None:
                lost += 1
            else:
                paths.append(stored)
        return paths

    for node in chain:
        message = node.get("message")
        if not isinstance(message, dict):
            continue
        meta = message.get("metadata") if isinstance(message.get("metadata"), dict) else {}
        if meta.get("is_visually_hidden_from_conversation"):
            continue
        role = (message.get("author") or {}).get("role")
        content = message.get("content") if isinstance(message.get("content"), dict) else {}
        ctype = content.get("content_type")
        when = to_time(message.get("create_time")) or last_time
        last_time = when
        if role == "system":
            text, _ = _gpt_parts(content)
            if text.strip() and not meta.get("is_user_system_message"):
                system_prompt = text
            continue
        if role == "user":
            if ctype not in ("text", "multimodal_text"):
                continue  # user_editable_context: the account's custom instructions, not a message
            close_reply()
            text, pointers = _gpt_parts(content)
            messages.append(Message("user", text, when, images=attach(pointers)))
            continue
        if role not in ("assistant", "tool"):
            continue
        if reply is None:
            reply = _GptReply(when)
        if role == "assistant" and meta.get("model_slug"):
            reply.model = str(meta["model_slug"])
        if message.get("status") == "in_progress":
            reply.status = "interrupted"
        recipient = message.get("recipient") or "all"
        if ctype == "thoughts":
            for thought in content.get("thoughts") or []:
                if isinstance(thought, dict):
                    summary, body = thought.get("summary"), thought.get("content")
                    text = "\n\n".join(str(x) for x in (f"**{summary}**" if summary else "", body) if x)
                    if text:
                        reply.thinking.append(text)
        elif ctype == "code" and role == "assistant":
            code = content.get("text")
            if isinstance(code, str) and code.strip():
                lang = content.get("language")
                lang = lang if isinstance(lang, str) and lang not in ("unknown", "") else "python"
                reply.pieces.append(_fence(code, lang))
        elif ctype == "execution_output" and role == "tool":
            output = content.get("text")
            if isinstance(output, str) and output.strip():
                reply.pieces.append("Output:\n\n" + _fence(output, "text"))
        elif ctype in ("text", "multimodal_text") and (role == "tool" or recipient == "all"):
            text, pointers = _gpt_parts(content)
            if role == "assistant" and text.strip():
                reply.pieces.append(text)
            reply.images.extend(attach(pointers))  # images a tool made (DALL·E) join the reply
    close_reply()
    conv = finish_conversation(
        item.get("title"),
        messages,
        to_time(item.get("create_time")),
        to_time(item.get("update_time")),
        model=None,  # ChatGPT's models (o3, gpt-4o) are not local ones; each reply keeps its model's name
        system_prompt=system_prompt,
    )
    return ImportedConversation(conv, images.files), other_branches, lost

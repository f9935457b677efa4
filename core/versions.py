"""Versions of a message: regenerate and edit-and-resend keep what they replace, as branches.

A conversation is a tree; ``Conversation.messages`` is the path shown and sent as context (the current
version of every message). A message on that path may have other versions: ``Message.versions`` holds them,
each one a list of messages, the other version of this message followed by the messages that came after it
in that branch (which may have versions of their own). ``Message.version`` is the place (from 0) of the
current version among all ``len(versions) + 1``, so ‹ 2/3 › keeps its order when switching.

- Edit and resend: the user message and every message after it become one version; the edited text
  starts a new one (the last).
- Regenerate: the last reply becomes one version; the new reply is the last. A reply that has no text (a
  request that failed before the model wrote anything) is replaced, not kept.

Functions here change ``conv`` in memory only; core.session_manager saves.
"""

from __future__ import annotations

from core.conversation import Conversation, Message

__all__ = [
    "alternatives",
    "count",
    "detach",
    "keep_reply_as_version",
    "kept_on_regenerate",
    "switch",
    "with_versions",
]


def count(msg: Message) -> int:
    """How many versions ``msg`` has (1 when it was never regenerated or edited)."""
    return len(msg.versions) + 1


def alternatives(conv: Conversation, index: int) -> list[list[Message]]:
    """Every version of message ``index`` in order, each with what followed it; ``conv`` is not changed."""
    head = conv.messages[index]
    place = min(head.version, len(head.versions))
    return head.versions[:place] + [conv.messages[index:]] + head.versions[place:]


def kept_on_regenerate(conv: Conversation) -> list[list[Message]]:
    """The versions a regenerated reply will have before it (what keep_reply_as_version will return), without
    changing ``conv``."""
    if not conv.messages or conv.messages[-1].role != "assistant":
        return []
    last = conv.messages[-1]
    kept = alternatives(conv, len(conv.messages) - 1)
    return [v for v in kept if v[0] is not last or last.content or last.thinking]


def detach(conv: Conversation, index: int) -> list[list[Message]]:
    """Remove ``conv.messages[index:]`` and return every version of that message in order, the one just
    removed included at its place; the removed head no longer holds the others."""
    if not 0 <= index < len(conv.messages):
        raise IndexError(f"no message {index + 1} in this conversation")
    head = conv.messages[index]
    every = alternatives(conv, index)
    head.versions, head.version = [], 0
    del conv.messages[index:]
    return every


def with_versions(msg: Message, earlier: list[list[Message]]) -> Message:
    """Make ``msg`` the newest (last) version after ``earlier``; returns ``msg``."""
    msg.versions = earlier
    msg.version = len(earlier)
    return msg


def keep_reply_as_version(conv: Conversation) -> list[list[Message]]:
    """Before a new reply to the last user message: the last reply's versions, that reply included, removed
    from the path (a reply with no text is dropped, not kept); [] when the last message is not a reply."""
    if not conv.messages or conv.messages[-1].role != "assistant":
        return []
    last = conv.messages[-1]
    versions = detach(conv, len(conv.messages) - 1)
    if not last.content and not last.thinking:
        versions = [v for v in versions if v[0] is not last]
    return versions


def switch(conv: Conversation, index: int, target: int) -> None:
    """Show version ``target`` (from 0) of message ``index``: that version and what followed it become the
    path from ``index`` on."""
    if not 0 <= index < len(conv.messages):
        raise IndexError(f"no message {index + 1} in this conversation")
    head = conv.messages[index]
    if not 0 <= target < count(head):
        raise IndexError(f"message {index + 1} has {count(head)} versions, not {target + 1}")
    if target == head.version:
        return
    versions = detach(conv, index)
    chosen = versions.pop(target)
    chosen[0].versions, chosen[0].version = versions, target
    conv.messages.extend(chosen)

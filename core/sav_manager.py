"""The conversation.md format: a Markdown file people can read, which round-trips any message exactly.

Layout::

    ---
    format: ia-conversation/1
    title: "JSON string"              every value is JSON (a YAML subset) or an ISO timestamp
    created: 2026-11-24T08:12:03+00:00
    ...
    ---

    # Title

    ## 🤖 Assistant · 2026-11-24 08:12:05 UTC · smollm2:135m      (for readers only; ignored by the parser)

    <details><summary>Thinking</summary>
    <!-- ia:thinking id=m2 -->  ...thinking...  <!-- ia:end m2 -->
    </details>

    <!-- ia:message id=m2 role=assistant created=... status=complete model=smollm2:135m stats={...} -->

    ...content, byte for byte...

    <!-- ia:end m2 -->

    <!-- ia:eof -->

A message with other versions (core.versions) carries ``version=N`` (its place, from 1) and ``versions=[[...]]``
(the other versions, each a JSON list of message objects: that version and what followed it) on its marker;
an older parser ignores both and reads the current path. A block's text is exactly what lies between ``marker line + "\\n"`` + one blank line and a blank line +
``<!-- ia:end ID -->``; the ID is chosen so ``ia:end ID`` never occurs in the text, so no content can end a
block early. A fence left open by the text is closed for Markdown viewers by a line recorded in the end
marker (``closer=``) and removed again when reading.

The records it reads and writes (Conversation, Message) are core.conversation's; the file is replaced
atomically and durably (core.fileio.atomic_write). Fenced code blocks of replies are found here too
(``extract_code_blocks``), with the same Markdown parser, for the ``code_<n>.<ext>`` files saved beside it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from core.conversation import ROLES, STATUSES, Conversation, Message
from core.errors import ConversationCorrupt
from core.fileio import atomic_write
from core.i18n import _

__all__ = [
    "FORMAT",
    "CodeBlock",
    "extension_for",
    "extract_code_blocks",
    "fence_closer",
    "message_heading",
    "parse",
    "read_conversation",
    "render",
    "write_conversation",
]

FORMAT = "ia-conversation/1"


@dataclass(frozen=True)
class CodeBlock:
    """A fenced code block of a reply; ``index`` counts from 1 in order of appearance."""

    lang: str
    code: str
    index: int


# ---------------------------------------------------------------------------------------------- values


def _json(value: Any) -> str:
    # ASCII-only JSON with '<' and '>' escaped: safe inside an HTML comment and on one line.
    return json.dumps(value, ensure_ascii=True).replace("<", "\\u003c").replace(">", "\\u003e")


_BARE = re.compile(r"[A-Za-z0-9_.:+-]+")


def _attr(value: Any) -> str:
    return value if isinstance(value, str) and _BARE.fullmatch(value) else _json(value)


def _timestamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _datetime(raw: str) -> datetime:
    """ISO time; a hand-written time without offset is taken as UTC."""
    value = datetime.fromisoformat(raw.strip().strip('"'))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _parse_attrs(text: str) -> dict[str, Any]:
    """``key=value key="json" key={...}`` -> dict; raises ValueError on anything else."""
    attrs: dict[str, Any] = {}
    decoder = json.JSONDecoder()
    pos = 0
    while pos < len(text):
        if text[pos] == " ":
            pos += 1
            continue
        key = re.compile(r"([a-z_]+)=").match(text, pos)
        if not key:
            raise ValueError(f"unexpected text {text[pos : pos + 20]!r}")
        pos = key.end()
        if pos < len(text) and text[pos] in '"{[':
            attrs[key.group(1)], pos = decoder.raw_decode(text, pos)
        else:
            bare = _BARE.match(text, pos)
            if not bare:
                raise ValueError(f"no value for {key.group(1)}")
            attrs[key.group(1)], pos = bare.group(), bare.end()
    return attrs


# ---------------------------------------------------------------------------------------------- render

_ROLE_LABEL = {"user": "🧑 User", "assistant": "🤖 Assistant", "system": "⚙️ System"}
_STATUS_LABEL = {"streaming": " · ⏳ streaming", "interrupted": " · ⚠️ interrupted", "error": " · ❌ error"}
_SENTINEL = "ia-sentinel-paragraph"


@lru_cache(maxsize=2)
def _parser(inline: bool) -> Any:
    """A markdown-it parser, built on first use (importing markdown-it is kept off the start-up path);
    without inline rules when only the block structure matters (fence closing)."""
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark")
    return md if inline else md.disable("inline")


_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})(.*)")
_LARGE = 64 * 1024  # above this, markdown-it takes seconds: scan fences line by line instead


def _ends_in_paragraph(markdown: str) -> bool:
    tokens = _parser(False).parse(markdown + "\n\n" + _SENTINEL)
    return (
        len(tokens) >= 3
        and tokens[-3].type == "paragraph_open"
        and tokens[-3].level == 0
        and tokens[-2].content == _SENTINEL
    )


def _open_fence_by_lines(text: str) -> str:
    """Top-level fence left open at the end of ``text`` (CommonMark fence rules, containers ignored)."""
    opener = ""
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if not match:
            continue
        run, rest = match.groups()
        if not opener:
            if not (run[0] == "`" and "`" in rest):
                opener = run
        elif run[0] == opener[0] and len(run) >= len(opener) and not rest.strip():
            opener = ""
    return opener


@lru_cache(maxsize=256)
def fence_closer(text: str) -> str:
    """The fence line that closes a code block ``text`` leaves open (for viewers), or ''."""
    if "```" not in text and "~~~" not in text:
        return ""
    if len(text) > _LARGE:
        return _open_fence_by_lines(text)
    if _ends_in_paragraph(text):
        return ""
    tokens = [t for t in _parser(False).parse(text) if t.type == "fence" and t.level == 0]
    if tokens and _ends_in_paragraph(text + "\n" + tokens[-1].markup):
        return tokens[-1].markup
    return ""


def _block_id(base: str, *texts: str) -> str:
    block_id, n = base, 1
    while any(f"ia:end {block_id}" in text for text in texts):
        n += 1
        block_id = f"{base}-{n}"
    return block_id


def _block(marker: str, block_id: str, text: str) -> list[str]:
    closer = fence_closer(text)
    end = f"<!-- ia:end {block_id} closer={_json(closer)} -->" if closer else f"<!-- ia:end {block_id} -->"
    return [marker, "\n\n", text, "\n" + closer if closer else "", "\n\n", end, "\n"]


def message_heading(msg: Message) -> str:
    """The Markdown heading readers see above a message: role, time, model, status."""
    when = msg.created.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [f"## {_ROLE_LABEL.get(msg.role, msg.role)} · {when}"]
    if msg.model:
        parts.append(f" · {' '.join(msg.model.split())}")
    parts.append(_STATUS_LABEL.get(msg.status, ""))
    if msg.versions:
        parts.append(f" · version {msg.version + 1}/{len(msg.versions) + 1}")
    return "".join(parts)


def _message_data(msg: Message) -> dict[str, Any]:
    """A message of another version as a JSON object (in the ``versions`` attribute of a marker)."""
    data: dict[str, Any] = {
        "role": msg.role,
        "created": _timestamp(msg.created),
        "status": msg.status,
        "content": msg.content,
    }
    optional = {"model": msg.model, "thinking": msg.thinking or None, "images": msg.images or None}
    optional |= {"error": msg.error, "stats": msg.stats}
    data.update({k: v for k, v in optional.items() if v is not None})
    if msg.versions:
        data["version"] = msg.version + 1
        data["versions"] = [[_message_data(m) for m in tail] for tail in msg.versions]
    return data


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _image_line(image: str) -> str:
    """A Markdown image for viewers, always on one line (the parser ignores it, but a line break in it would
    read as text outside any message)."""
    return f"![{_one_line(Path(image).name)}](<{_one_line(image)}>)\n\n"


def render(conv: Conversation) -> str:
    """The full text of conversation.md for ``conv``."""
    out = [
        "---\n",
        f"format: {FORMAT}\n",
        f"title: {_json(conv.title)}\n",
        f"created: {_timestamp(conv.created)}\n",
        f"updated: {_timestamp(conv.updated)}\n",
        f"model: {_json(conv.model)}\n",
        f"system_prompt: {_json(conv.system_prompt)}\n",
        f"options: {_json(conv.options)}\n",
        "---\n\n",
        f"# {' '.join(conv.title.split()) or conv.slug or 'Conversation'}\n\n",
    ]
    for number, msg in enumerate(conv.messages, start=1):
        block_id = _block_id(f"m{number}", msg.content, msg.thinking)
        out.append(message_heading(msg) + "\n\n")
        if msg.thinking:
            out.append("<details><summary>💭 Thinking</summary>\n\n")
            out += _block(f"<!-- ia:thinking id={block_id} -->", block_id, msg.thinking)
            out.append("\n</details>\n\n")
        attrs = {"id": block_id, "role": msg.role, "created": _timestamp(msg.created), "status": msg.status}
        if msg.model is not None:
            attrs["model"] = msg.model
        if msg.images:
            attrs["images"] = msg.images
        if msg.error is not None:
            attrs["error"] = msg.error
        if msg.stats is not None:
            attrs["stats"] = msg.stats
        if msg.versions:
            attrs["version"] = msg.version + 1
            attrs["versions"] = [[_message_data(m) for m in tail] for tail in msg.versions]
        marker = "<!-- ia:message " + " ".join(f"{k}={_attr(v)}" for k, v in attrs.items()) + " -->"
        out += _block(marker, block_id, msg.content)
        out.append("\n")
        for image in msg.images:
            out.append(_image_line(image))
    out.append("<!-- ia:eof -->\n")
    return "".join(out)


# ---------------------------------------------------------------------------------------------- parse

# Marker lines; trailing spaces or tabs left by an editor are tolerated.
_MARKER = re.compile(r"^<!-- ia:(message|thinking|eof)(?: (.*))? -->[ \t]*$", re.MULTILINE)
# What may stand between messages: blank lines, headings, the thinking <details> wrapper, image links.
_BETWEEN_LINE = r"[ \t]*(?:(?:#|</?details\b|</?summary\b|!\[)[^\n]*)?"
_BETWEEN = re.compile(rf"{_BETWEEN_LINE}(?:\n{_BETWEEN_LINE})*")
_MARKER_LIKE = re.compile(r"<!--\s*ia:", re.IGNORECASE)


def _check_between(text: str, start: int, end: int) -> None:
    """Refuse text between messages: the app would drop it at its next save (a broken marker line, a note
    typed outside a message), so such a file is reported instead of loaded."""
    if _BETWEEN.fullmatch(text, start, end):
        return
    region = text[start:end]
    for offset, line in _lines_with_offsets(region):
        if _BETWEEN.fullmatch(line):
            continue
        number = text.count("\n", 0, start + offset) + 1
        shown = line.strip()[:60]
        if _MARKER_LIKE.match(line.strip()):
            raise ValueError(
                f"line {number} '{shown}' is not a marker this version reads "
                "(markers stand alone on their line, exactly as '<!-- ia:message … -->' and '<!-- ia:end ID -->')"
            )
        raise ValueError(
            f"line {number} '{shown}' lies outside any message and would be lost: "
            "move it between a message's markers or delete it"
        )


def _lines_with_offsets(region: str) -> list[tuple[int, str]]:
    out, offset = [], 0
    for line in region.split("\n"):
        out.append((offset, line))
        offset += len(line) + 1
    return out


def _block_text(region: str, closer: str) -> str:
    text = region[1:] if region.startswith("\n") else region
    text = text.removesuffix("\n")  # the end marker's own line break is outside the region
    if closer and text.endswith("\n" + closer):
        text = text[: -len(closer) - 1]
    return text


def _read_block(text: str, marker_end: int, block_id: str, what: str) -> tuple[str, int]:
    """Text of the block whose marker line ends at ``marker_end``, and the position after its end marker."""
    end = re.compile(rf"\n<!-- ia:end {re.escape(block_id)}(?: ([^\n]*?))? -->[ \t]*(?=\n|\Z)").search(
        text, marker_end
    )
    if not end:
        raise ValueError(
            f"{what} {block_id} has no end marker '<!-- ia:end {block_id} -->' (truncated file?)"
        )
    closer = ""
    if end.group(1):
        closer = str(_parse_attrs(end.group(1)).get("closer", ""))
    return _block_text(text[marker_end + 1 : end.start()], closer), end.end()


def _front_value(key: str, raw: str) -> Any:
    if key in ("created", "updated"):
        return _datetime(raw)
    try:
        return json.loads(raw)
    except ValueError:
        if key == "options":
            raise ValueError(f"options is not a JSON object: {raw[:40]!r}") from None
        return raw.strip()  # a hand-edited value without quotes


def _parse_front(text: str) -> tuple[dict[str, Any], int]:
    if not text.startswith("---\n"):
        raise ValueError("it does not start with the '---' front matter line")
    end = text.find("\n---\n", 3)
    if end < 0:
        raise ValueError("the front matter has no closing '---' line (truncated file?)")
    front: dict[str, Any] = {}
    for line in text[4:end].split("\n"):
        if not line.strip():
            continue
        key, sep, raw = line.partition(":")
        if not sep:
            raise ValueError(f"front matter line {line[:40]!r} is not 'key: value'")
        front[key.strip()] = _front_value(key.strip(), raw)
    if not str(front.get("format", "")).startswith("ia-conversation/"):
        raise ValueError("the front matter has no 'format: ia-conversation/1' line")
    if "created" not in front:
        raise ValueError("the front matter has no 'created' time")
    return front, end + 5


def _versions(attrs: dict[str, Any], msg: Message, ident: str) -> None:
    """Read ``version`` and ``versions`` (the other versions) of a message into ``msg``."""
    where = f"message {ident}"
    raw = attrs.get("versions")
    if raw is None:
        if attrs.get("version") not in (None, 1, "1"):
            raise ValueError(f"{where} says version {attrs['version']} but lists no other versions")
        return
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where} has malformed versions (a list of lists of messages)")
    tails: list[list[Message]] = []
    for n, tail in enumerate(raw, start=1):
        if not isinstance(tail, list) or not tail or not all(isinstance(m, dict) for m in tail):
            raise ValueError(f"{where} has a malformed version {n} (a list of messages)")
        tails.append([_message_data_read(m, f"{ident} (other version {n})") for m in tail])
        if tails[-1][0].role != msg.role:
            raise ValueError(f"{where} has another version {n} that is a {tails[-1][0].role} message")
    try:
        place = int(attrs.get("version", len(tails) + 1)) - 1
    except (TypeError, ValueError):
        raise ValueError(f"{where} has a malformed version number {attrs.get('version')!r}") from None
    if not 0 <= place <= len(tails):
        raise ValueError(f"{where} is version {place + 1} of only {len(tails) + 1}")
    msg.version, msg.versions = place, tails


def _message_data_read(data: dict[str, Any], ident: str) -> Message:
    if "created" not in data:
        raise ValueError(f"message {ident} has no created time")
    content, thinking = data.get("content", ""), data.get("thinking", "")
    if not isinstance(content, str) or not isinstance(thinking, str):
        raise ValueError(f"message {ident} has malformed text")
    return _message({**data, "id": ident}, content, thinking)


def _message(attrs: dict[str, Any], content: str, thinking: str) -> Message:
    role, status = attrs.get("role"), attrs.get("status", "complete")
    if role not in ROLES:
        raise ValueError(f"message {attrs.get('id')} has an unknown role {role!r}")
    if status not in STATUSES:
        raise ValueError(f"message {attrs.get('id')} has an unknown status {status!r}")
    images = attrs.get("images", [])
    stats = attrs.get("stats")
    if not isinstance(images, list) or not (stats is None or isinstance(stats, dict)):
        raise ValueError(f"message {attrs.get('id')} has malformed images or stats")
    msg = Message(
        role=role,
        content=content,
        created=_datetime(str(attrs["created"])),
        model=None if attrs.get("model") is None else str(attrs["model"]),
        thinking=thinking,
        images=[str(i) for i in images],
        status=status,
        error=None if attrs.get("error") is None else str(attrs["error"]),
        stats=stats,
    )
    _versions(attrs, msg, str(attrs.get("id")))
    return msg


def _parse(text: str, slug: str) -> Conversation:
    text = text.removeprefix("\ufeff")
    if text.startswith("---\r\n"):  # the whole file was converted to CRLF by an editor
        text = text.replace("\r\n", "\n")
    front, pos = _parse_front(text)
    messages: list[Message] = []
    thinking: tuple[str, str] | None = None  # (block id, text) waiting for its message
    while True:
        marker = _MARKER.search(text, pos)
        if not marker:
            raise ValueError("the end line '<!-- ia:eof -->' is missing (truncated file?)")
        _check_between(text, pos, marker.start())
        kind = marker.group(1)
        if kind == "eof":
            _check_between(text, marker.end(), len(text))
            break
        attrs = _parse_attrs(marker.group(2) or "")
        block_id = str(attrs.get("id", ""))
        if not block_id:
            raise ValueError(f"a {kind} marker has no id")
        body, pos = _read_block(text, marker.end(), block_id, kind)
        if kind == "thinking":
            if thinking:
                raise ValueError(f"thinking block {thinking[0]} is not followed by its message")
            thinking = (block_id, body)
            continue
        if thinking and thinking[0] != block_id:
            raise ValueError(f"thinking block {thinking[0]} is not followed by its message")
        if "created" not in attrs:
            raise ValueError(f"message {block_id} has no created time")
        messages.append(_message(attrs, body, thinking[1] if thinking else ""))
        thinking = None
    if thinking:
        raise ValueError(f"thinking block {thinking[0]} is not followed by its message")
    created = front["created"]
    return Conversation(
        title=str(front.get("title", slug)),
        slug=slug,
        created=created,
        updated=front.get("updated", created),
        model=str(front.get("model") or ""),
        system_prompt=str(front.get("system_prompt") or ""),
        options=dict(front.get("options") or {}),
        messages=messages,
    )


def parse(text: str, slug: str = "", *, path: Path | None = None) -> Conversation:
    """Conversation from the text of a conversation.md; ConversationCorrupt says why it cannot be read."""
    try:
        return _parse(text, slug)
    except (ValueError, TypeError, KeyError) as exc:
        raise ConversationCorrupt(path or Path(slug or "conversation.md"), str(exc)) from None


def read_conversation(path: Path) -> Conversation:
    """Read and parse ``path`` (folder name = slug); never modifies the file."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise ConversationCorrupt(
            path, _("it cannot be read ({error})").format(error=exc.strerror or exc)
        ) from exc
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConversationCorrupt(
            path, _("it is not valid UTF-8 (bad byte at offset {offset})").format(offset=exc.start)
        ) from None
    return parse(text, path.parent.name, path=path)


# ---------------------------------------------------------------------------------------------- write


def write_conversation(path: Path, conv: Conversation) -> None:
    """Render ``conv`` and write it to ``path`` atomically."""
    atomic_write(path, render(conv))


# ---------------------------------------------------------------------------------------------- code blocks

_EXTENSIONS = {
    "python": ".py", "py": ".py", "python3": ".py", "javascript": ".js", "js": ".js", "typescript": ".ts",
    "ts": ".ts", "bash": ".sh", "sh": ".sh", "shell": ".sh", "zsh": ".sh", "console": ".sh", "c": ".c",
    "cpp": ".cpp", "c++": ".cpp", "h": ".h", "java": ".java", "go": ".go", "rust": ".rs", "rs": ".rs",
    "ruby": ".rb", "rb": ".rb", "php": ".php", "html": ".html", "css": ".css", "json": ".json",
    "yaml": ".yaml", "yml": ".yaml", "toml": ".toml", "sql": ".sql", "markdown": ".md", "md": ".md",
    "xml": ".xml", "kotlin": ".kt", "swift": ".swift", "csharp": ".cs", "cs": ".cs", "c#": ".cs", "r": ".r",
    "lua": ".lua", "perl": ".pl", "powershell": ".ps1", "ps1": ".ps1", "text": ".txt", "txt": ".txt",
}  # fmt: skip


def extension_for(lang: str) -> str:
    """The usual file extension for a fence's language ('python' -> '.py'); '.txt' when unknown."""
    lang = lang.strip().lower()
    if not lang:
        return ".txt"
    if lang in _EXTENSIONS:
        return _EXTENSIONS[lang]
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    try:
        patterns = get_lexer_by_name(lang).filenames
    except ClassNotFound:
        return ".txt"
    for pattern in patterns:
        if re.fullmatch(r"\*\.[A-Za-z0-9_+-]+", pattern):
            return pattern[1:]
    return ".txt"


def extract_code_blocks(markdown: str) -> list[CodeBlock]:
    """Fenced code blocks of ``markdown`` in order of appearance (nested ones in lists and quotes too)."""
    blocks = []
    for token in _parser(True).parse(markdown):
        if token.type == "fence":
            lang = token.info.split(maxsplit=1)[0] if token.info.strip() else ""
            blocks.append(CodeBlock(lang=lang, code=token.content, index=len(blocks) + 1))
    return blocks

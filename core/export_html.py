"""A conversation as one standalone HTML page: Markdown rendered, code highlighted by Pygments, images embedded
as ``data:`` URLs, thinking in collapsed sections. The page holds no script and loads nothing: a
Content-Security-Policy allows only its own inline style and ``data:`` images, so it reads the same offline,
in any browser, years later. Raw HTML in a message is shown as text, never run. Light and dark follow the
reader's system; it prints cleanly.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from core.conversation import Conversation, Message

__all__ = ["CSP", "render_markdown", "render_page"]

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'"
_ROLE = {"user": "🧑 User", "assistant": "🤖 Assistant", "system": "⚙️ System"}
_STATUS = {"streaming": "⏳ streaming", "interrupted": "⚠️ interrupted", "error": "❌ error"}

_PAGE_CSS = """
:root { color-scheme: light dark; --bg: #ffffff; --fg: #1f2328; --muted: #656d76; --card: #f6f8fa;
  --user: #eef4ff; --border: #d0d7de; --accent: #0969da; --code: #f6f8fa; --warn: #9a6700; --err: #cf222e; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #0d1117; --fg: #e6edf3; --muted: #8d96a0; --card: #161b22; --user: #172033;
    --border: #30363d; --accent: #4493f8; --code: #161b22; --warn: #d29922; --err: #f85149; } }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); line-height: 1.55;
  font: 16px/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "Helvetica Neue", Arial,
    "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji", sans-serif; }
main { max-width: 860px; margin: 0 auto; padding: 32px 20px 48px; }
h1.title { font-size: 1.7em; margin: 0 0 4px; overflow-wrap: anywhere; }
.meta, footer { color: var(--muted); font-size: .88em; }
footer { margin-top: 36px; border-top: 1px solid var(--border); padding-top: 12px; }
.system-prompt { border-left: 3px solid var(--border); margin: 16px 0; padding: 4px 14px; color: var(--muted); }
.system-prompt pre { white-space: pre-wrap; font: inherit; margin: 4px 0; }
article.msg { margin: 18px 0; padding: 12px 16px; border-radius: 10px; background: var(--card);
  border: 1px solid var(--border); overflow-wrap: anywhere; }
article.msg.user { background: var(--user); }
article.msg > header { font-size: .85em; color: var(--muted); margin-bottom: 6px; }
article.msg > header .role { font-weight: 600; color: var(--fg); }
.status { color: var(--warn); }
.error { color: var(--err); }
details.thinking { border-left: 3px solid var(--border); padding: 2px 12px; margin: 6px 0 10px;
  color: var(--muted); }
details.thinking summary { cursor: pointer; }
.md > :first-child { margin-top: 0; }
.md > :last-child { margin-bottom: 0; }
.md a { color: var(--accent); }
.md img, figure img { max-width: 100%; height: auto; border-radius: 6px; }
figure { margin: 10px 0 0; }
figcaption { color: var(--muted); font-size: .8em; }
.md table { border-collapse: collapse; }
.md th, .md td { border: 1px solid var(--border); padding: 4px 10px; }
.md blockquote { margin: 0; padding: 0 12px; border-left: 3px solid var(--border); color: var(--muted); }
code { font-family: ui-monospace, SFMono-Regular, "Cascadia Code", Menlo, Consolas, "DejaVu Sans Mono",
  monospace; font-size: .9em; }
:not(pre) > code { background: var(--code); padding: 1px 5px; border-radius: 4px; }
pre { background: var(--code); border: 1px solid var(--border); border-radius: 8px; padding: 10px 12px;
  overflow-x: auto; line-height: 1.4; }
.missing { color: var(--muted); font-style: italic; }
@media print { body { background: #fff; color: #000; } article.msg { break-inside: avoid; }
  details.thinking { display: block; } pre { white-space: pre-wrap; } }
"""


@lru_cache(maxsize=1)
def _code_css() -> str:
    """Pygments' token colors for code blocks: a light style, and a dark one under prefers-color-scheme."""
    from pygments.formatters import HtmlFormatter
    from pygments.styles import get_all_styles

    dark_name = "github-dark" if "github-dark" in set(get_all_styles()) else "monokai"
    light = HtmlFormatter(style="default").get_style_defs("pre code")
    dark = HtmlFormatter(style=dark_name).get_style_defs("pre code")
    keep = "\n".join(line for line in light.splitlines() if line.startswith("pre code"))
    keep_dark = "\n".join(line for line in dark.splitlines() if line.startswith("pre code"))
    # The token rules only: each style's own background would fight the page's light/dark colors.
    keep = "\n".join(line for line in keep.splitlines() if not line.startswith("pre code {"))
    keep_dark = "\n".join(line for line in keep_dark.splitlines() if not line.startswith("pre code {"))
    return f"{keep}\n@media (prefers-color-scheme: dark) {{\n{keep_dark}\n}}\n"


def _highlight(code: str, lang: str, _attrs: Any) -> str:
    """Pygments HTML for a fenced block with a known language; "" lets markdown-it escape it as plain code."""
    from pygments import highlight
    from pygments.formatters import HtmlFormatter
    from pygments.lexers import get_lexer_by_name
    from pygments.util import ClassNotFound

    if not lang:
        return ""
    try:
        lexer = get_lexer_by_name(lang.split()[0])
    except ClassNotFound:
        return ""
    return highlight(code, lexer, HtmlFormatter(nowrap=True))


def _render_image(self: Any, tokens: list[Any], idx: int, options: Any, env: dict[str, Any]) -> str:
    """An image in a message: shown when it is embedded (data:) or one of the conversation's own images; a
    remote one becomes a link, so opening the page never fetches anything."""
    token = tokens[idx]
    src = str(token.attrGet("src") or "")
    alt = self.renderInlineAsText(token.children or [], options, env)
    embedded = (env.get("images") or {}).get(src)
    if embedded:
        src = embedded
    if src.startswith("data:image/"):
        return f'<img src="{html.escape(src)}" alt="{html.escape(alt)}">'
    label = html.escape(alt or src)
    return f'<a href="{html.escape(src)}">🖼 {label}</a>'


@lru_cache(maxsize=2)
def _parser(breaks: bool) -> Any:
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": False, "breaks": breaks, "highlight": _highlight})
    md.enable(["table", "strikethrough"])
    md.add_render_rule("image", _render_image)
    return md


def render_markdown(text: str, *, breaks: bool = False, images: Mapping[str, str] | None = None) -> str:
    """HTML for Markdown ``text``: raw HTML escaped, code highlighted; ``images`` maps a path the text names
    to the data: URL that replaces it."""
    return _parser(breaks).render(text, {"images": dict(images or {})})


def _data_url(data: bytes) -> str | None:
    from core.export import image_type

    kind = image_type(data)
    if kind is None:
        return None
    return f"data:{kind[1]};base64,{base64.b64encode(data).decode('ascii')}"


def _when(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _time_tag(value: datetime) -> str:
    return f'<time datetime="{value.astimezone(UTC).isoformat()}">{_when(value)}</time>'


def _message(msg: Message, urls: Mapping[str, str]) -> str:
    classes = " ".join(filter(None, ["msg", msg.role, msg.status if msg.status != "complete" else ""]))
    head = [f'<span class="role">{html.escape(_ROLE.get(msg.role, msg.role))}</span>', _time_tag(msg.created)]
    if msg.model:
        head.append(f'<span class="model">{html.escape(msg.model)}</span>')
    if msg.status in _STATUS:
        head.append(f'<span class="status">{_STATUS[msg.status]}</span>')
    out = [f'<article class="{classes}">\n<header>{" · ".join(head)}</header>\n']
    if msg.thinking:
        out.append(
            '<details class="thinking"><summary>💭 Thinking</summary>\n<div class="md">'
            f"{render_markdown(msg.thinking, images=urls)}</div></details>\n"
        )
    if msg.content:
        body = render_markdown(msg.content, breaks=msg.role == "user", images=urls)
        out.append(f'<div class="md">{body}</div>\n')
    for image in msg.images:
        name = html.escape(image.rsplit("/", 1)[-1])
        if image in urls:
            out.append(
                f'<figure><img src="{urls[image]}" alt="{name}"><figcaption>{name}</figcaption></figure>\n'
            )
        else:
            out.append(
                f'<p class="missing">🖼 {name} (the image file was missing when this page was made)</p>\n'
            )
    if msg.error:
        out.append(f'<p class="error">⚠️ {html.escape(msg.error)}</p>\n')
    out.append("</article>\n")
    return "".join(out)


def render_page(
    conv: Conversation, attachments: Mapping[str, bytes], *, exported: datetime | None = None
) -> str:
    """The whole page for ``conv``; ``attachments`` holds the bytes of the images its messages name."""
    urls = {name: url for name, data in attachments.items() if (url := _data_url(data))}
    title = " ".join(conv.title.split()) or conv.slug or "Conversation"
    meta = [f"Created {_time_tag(conv.created)}", f"updated {_time_tag(conv.updated)}"]
    if conv.model:
        meta.append(f"model {html.escape(conv.model)}")
    count = len(conv.messages)
    meta.append(f"{count} message{'s' if count != 1 else ''}")
    parts = [
        "<!DOCTYPE html>\n",
        '<html>\n<head>\n<meta charset="utf-8">\n',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n',
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
        '<meta name="generator" content="IA_V3">\n',
        f"<title>{html.escape(title)}</title>\n",
        f"<style>{_PAGE_CSS}{_code_css()}</style>\n</head>\n<body>\n<main>\n",
        f'<h1 class="title">{html.escape(title)}</h1>\n',
        f'<p class="meta">{" · ".join(meta)}</p>\n',
    ]
    if conv.system_prompt:
        parts.append(
            '<section class="system-prompt"><strong>System prompt</strong>'
            f"<pre>{html.escape(conv.system_prompt)}</pre></section>\n"
        )
    parts.extend(_message(msg, urls) for msg in conv.messages)
    stamp = _when(exported or datetime.now(UTC))
    parts.append(f"<footer>Exported from IA_V3 on {stamp}.</footer>\n</main>\n</body>\n</html>\n")
    return "".join(parts)

"""Markdown (parsed by markdown-it-py) turned into a flat list of display blocks for the chat view.

A block is a paragraph, heading, list, quote, table, rule or code block, carrying Kivy markup (all source
text escaped). `MarkdownStream` re-parses only the tail of a growing reply: every top-level block followed by
another one is final, so it is rendered once and never again. `split_markup` and `split_lines` cut long
blocks into pieces small enough for one Label texture each.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from core import i18n
from core.i18n import N_
from ui.fonts import FONTS, markup_text

__all__ = [  # i18n: names of this module
    "Block",
    "MarkdownStream",
    "markup_plain",
    "render_blocks",
    "split_lines",
    "split_markup",
]

TEXT_STYLES = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "list", "quote")


@dataclass(frozen=True)
class Block:
    """One display block: kind "text" (style p/h1-h6/list/quote), "table", "code" or "rule"."""

    kind: str
    markup: str = ""  # Kivy markup for text and table blocks
    style: str = "p"
    code: str = ""  # raw code for code blocks (what Copy puts on the clipboard)
    lang: str = ""


def _parser() -> MarkdownIt:
    # No raw HTML (shown as text), GitHub tables and strikethrough on.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


_MD = _parser()
# Block structure only (no inline parsing): enough to find where top-level blocks start, at half the cost.
_BLOCKS = _parser().disable(["inline", "text_join"], ignoreInvalid=True)
# markdown-it logs every rule it tries at DEBUG; parsing a streaming tail each frame must not pay for it.
logging.getLogger("markdown_it").setLevel(logging.WARNING)


def _clean_ref(href: str) -> str:
    return href.replace("[", "%5B").replace("]", "%5D")


def _inline(children: Sequence[Token] | None, palette: Mapping[str, str]) -> tuple[str, str]:
    """(markup, plain text) for the children of an inline token."""
    markup: list[str] = []
    plain: list[str] = []
    for tok in children or ():
        kind = tok.type
        if kind in ("text", "html_inline"):
            markup.append(markup_text(tok.content))
            plain.append(tok.content)
        elif kind == "code_inline":
            markup.append(
                f"[font={FONTS['mono']}][color={palette['inline_code']}]{markup_text(tok.content, 'mono')}[/color][/font]"
            )
            plain.append(tok.content)
        elif kind in ("softbreak", "hardbreak"):
            markup.append("\n")
            plain.append("\n")
        elif kind == "strong_open":
            markup.append("[b]")
        elif kind == "strong_close":
            markup.append("[/b]")
        elif kind == "em_open":
            markup.append("[i]")
        elif kind == "em_close":
            markup.append("[/i]")
        elif kind == "s_open":
            markup.append("[s]")
        elif kind == "s_close":
            markup.append("[/s]")
        elif kind == "link_open":
            href = _clean_ref(str(tok.attrs.get("href", "")))
            markup.append(f"[ref={href}][color={palette['link']}][u]")
        elif kind == "link_close":
            markup.append("[/u][/color][/ref]")
        elif kind == "image":
            alt = tok.content or "image"
            href = _clean_ref(str(tok.attrs.get("src", "")))
            shown = i18n._(N_("[image: {alt}]")).format(alt=alt)
            markup.append(f"[ref={href}][color={palette['link']}]{markup_text(shown)}[/color][/ref]")
            plain.append(shown)
        else:  # any other inline token: keep its text rather than lose it
            markup.append(markup_text(tok.content))
            plain.append(tok.content)
    return "".join(markup), "".join(plain)


def _table(tokens: Sequence[Token], palette: Mapping[str, str]) -> Block:
    """A table as aligned monospace columns, header in bold, so it stays readable in a Label."""
    rows: list[list[tuple[str, str]]] = []
    aligns: list[str] = []
    header_rows = 0
    in_head = False
    for tok in tokens:
        if tok.type == "thead_open":
            in_head = True
        elif tok.type == "thead_close":
            in_head = False
        elif tok.type == "tr_open":
            rows.append([])
            if in_head:
                header_rows += 1
        elif tok.type in ("th_open", "td_open") and len(rows) == 1:
            style = str(tok.attrs.get("style", ""))
            aligns.append("right" if "right" in style else "center" if "center" in style else "left")
        elif tok.type == "inline" and rows:
            rows[-1].append(_inline(tok.children, palette))
    ncols = max((len(r) for r in rows), default=0)
    widths = [0] * ncols
    for row in rows:
        for i, (_, plain) in enumerate(row):
            widths[i] = max(widths[i], len(plain))
    lines: list[str] = []
    for r, row in enumerate(rows):
        cells = []
        for i in range(ncols):
            markup, plain = row[i] if i < len(row) else ("", "")
            pad = widths[i] - len(plain)
            align = aligns[i] if i < len(aligns) else "left"
            left = pad if align == "right" else pad // 2 if align == "center" else 0
            cell = " " * left + markup + " " * (pad - left)
            cells.append(f"[b]{cell}[/b]" if r < header_rows else cell)
        lines.append(" | ".join(cells).rstrip())
        if r == header_rows - 1:
            lines.append("-+-".join("-" * w for w in widths))
    return Block("table", markup="\n".join(lines), style="table")


class _Walker:
    """Walks the block tokens of one parse and collects display blocks, merging list and quote lines."""

    def __init__(self, palette: Mapping[str, str]) -> None:
        self.palette = palette
        self.blocks: list[Block] = []
        self.pending: list[str] = []
        self.pending_style = "p"
        self.lists: list[list[int]] = []  # per open list: [ordered, next number]
        self.item_first_para: list[bool] = []
        self.quote_depth = 0

    def flush(self) -> None:
        if self.pending:
            self.blocks.append(Block("text", markup="\n".join(self.pending), style=self.pending_style))
        self.pending = []

    def add_text(self, markup: str, style: str) -> None:
        if style in ("list", "quote") and self.pending and self.pending_style == style:
            self.pending.append(markup)
            return
        self.flush()
        if style in ("list", "quote"):
            self.pending_style = style
            self.pending = [markup]
        else:
            self.blocks.append(Block("text", markup=markup, style=style))

    def add_block(self, block: Block) -> None:
        self.flush()
        self.blocks.append(block)

    def _list_prefix(self) -> str:
        indent = "    " * (len(self.lists) - 1)
        if self.item_first_para and self.item_first_para[-1]:
            self.item_first_para[-1] = False
            ordered, number = self.lists[-1]
            if ordered:
                return f"{indent}{number - 1}. "
            bullet = "•" if len(self.lists) % 2 else "-"
            return f"{indent}{bullet} "
        return indent + "   "

    def walk(self, tokens: Sequence[Token]) -> list[Block]:
        i = 0
        while i < len(tokens):
            tok = tokens[i]
            kind = tok.type
            if kind == "heading_open":
                markup, _ = _inline(tokens[i + 1].children, self.palette)
                self.add_text(markup, tok.tag if self.quote_depth == 0 and not self.lists else "quote")
                i += 3
                continue
            if kind == "paragraph_open":
                markup, _ = _inline(tokens[i + 1].children, self.palette)
                if self.lists:
                    self.add_text(self._list_prefix() + markup, "quote" if self.quote_depth else "list")
                else:
                    self.add_text(markup, "quote" if self.quote_depth else "p")
                i += 3
                continue
            if kind in ("bullet_list_open", "ordered_list_open"):
                start = int(tok.attrs.get("start", 1) or 1)
                self.lists.append([1 if kind == "ordered_list_open" else 0, start])
            elif kind in ("bullet_list_close", "ordered_list_close"):
                self.lists.pop()
                if not self.lists and self.pending_style == "list":
                    self.flush()
            elif kind == "list_item_open":
                self.item_first_para.append(True)
                self.lists[-1][1] += 1
            elif kind == "list_item_close":
                if self.item_first_para.pop():  # an empty item still shows its bullet
                    self.item_first_para.append(True)
                    self.add_text(self._list_prefix(), "list")
                    self.item_first_para.pop()
            elif kind == "blockquote_open":
                if self.quote_depth == 0:
                    self.flush()
                self.quote_depth += 1
            elif kind == "blockquote_close":
                self.quote_depth -= 1
                if self.quote_depth == 0:
                    self.flush()
            elif kind in ("fence", "code_block"):
                lang = tok.info.strip().split()[0] if tok.info.strip() else ""
                self.add_block(Block("code", code=tok.content.rstrip("\n"), lang=lang))
            elif kind == "hr":
                self.add_block(Block("rule"))
            elif kind == "table_open":
                end = i
                while tokens[end].type != "table_close":
                    end += 1
                self.add_block(_table(tokens[i : end + 1], self.palette))
                i = end
            elif kind in ("html_block", "inline"):
                self.add_text(markup_text(tok.content.rstrip("\n")), "p")
            i += 1
        self.flush()
        return self.blocks


def _palette(palette: Mapping[str, str] | None) -> Mapping[str, str]:
    if palette is not None:
        return palette
    from ui.config_ui import theme

    return theme.hex


def render_blocks(text: str, palette: Mapping[str, str] | None = None) -> list[Block]:
    """All display blocks of a Markdown text (used for finished messages)."""
    return _Walker(_palette(palette)).walk(_MD.parse(text))


def _top_level_starts(tokens: Sequence[Token]) -> list[int]:
    """Source line where each top-level block starts, in order."""
    return [tok.map[0] for tok in tokens if tok.level == 0 and tok.nesting >= 0 and tok.map is not None]


# Characters that never change how the text before them is read when appended to the last line of a text
# block: no inline syntax (emphasis, code, links, escapes, entities, autolinks, strikethrough, tables, heading
# closers), no line break.
_PLAIN_TAIL = re.compile(r"[^\n\r*_`\\\[\]!<>&~|#=+\-]*[^\s*_`\\\[\]!<>&~|#=+\-]")
_MARKERS = re.compile(r"^[ \t]*(?:(?:[-+*]|\d{1,9}[.)]|>|#{1,6})(?:[ \t]+|$))*")
_APPENDABLE = ("p", "h1", "h2", "h3", "h4", "h5", "h6", "list", "quote")


class MarkdownStream:
    """Incremental rendering of a growing Markdown text: only the unfinished tail is parsed again, and not
    even that when the new text only adds plain words to its last line (the append-only fast path)."""

    def __init__(self, palette: Mapping[str, str] | None = None) -> None:
        self.palette = _palette(palette)
        self.offset = 0  # characters of the source already rendered into final blocks
        self.final: list[Block] = []
        self._checked = ""  # complete lines of the tail already found to hold a single block
        self._tail = ""  # the tail last rendered, and its blocks
        self._tail_blocks: list[Block] = []
        self.parsed = 0  # tails parsed with markdown-it (for tests and benchmarks)
        self.appended = 0  # tails extended by the fast path instead

    def update(self, text: str) -> tuple[list[Block], list[Block]]:
        """Feed the whole text so far; returns (blocks that became final now, blocks of the unfinished tail)."""
        tail = text[self.offset :]
        # Decide on complete lines only: a half-received line ("*" of "*word*") can look like a block start.
        complete = tail[: tail.rfind("\n") + 1]
        new_final: list[Block] = []
        if complete and complete != self._checked:
            self._checked = complete
            starts = _top_level_starts(_BLOCKS.parse(complete))
            if len(starts) >= 2:
                cut = _line_offset(complete, starts[-1])
                new_final = _Walker(self.palette).walk(_MD.parse(tail[:cut]))
                self.final.extend(new_final)
                self.offset += cut
                tail = tail[cut:]
        blocks = self._appended(tail) if not new_final else None
        if blocks is None:
            blocks = _Walker(self.palette).walk(_MD.parse(tail))
            self.parsed += 1
        else:
            self.appended += 1
        self._tail, self._tail_blocks = tail, blocks
        return new_final, blocks

    def _appended(self, tail: str) -> list[Block] | None:
        """The tail's blocks without parsing, when `tail` is the last tail plus plain words on its last line
        (" more words."): the last text block's markup gets them, escaped; None when that is not certain."""
        last, blocks = self._tail, self._tail_blocks
        if not last or len(tail) <= len(last) or not tail.startswith(last) or last[-1].isspace():
            return None
        added = tail[len(last) :]
        if not _PLAIN_TAIL.fullmatch(added) or not blocks:
            return None
        block = blocks[-1]
        if block.kind != "text" or block.style not in _APPENDABLE or not block.markup:
            return None
        # The last line must already hold text after its block markers ("1." becomes a list item once
        # text follows it, "1" once "." does), and end with a plain word that the last block shows last (so that
        # line is the end of that block, not of a block that ended without showing anything).
        line = last[last.rfind("\n") + 1 :]
        if len(_MARKERS.sub("", line).split()) < 2:  # "1" + "." would start a list: two words at least
            return None
        word = line.split()[-1]
        if not _PLAIN_TAIL.fullmatch(word) or not markup_plain(block.markup).endswith(word):
            return None
        return [
            *blocks[:-1],
            Block("text", markup=_join(block.markup, markup_text(added)), style=block.style),
        ]


def _join(left: str, right: str) -> str:
    """left + right, one font run where a run of a fallback font (ui.fonts) ends left and starts right:
    the markup markdown-it's parse of the whole would give."""
    if left.endswith("[/font]") and right.startswith("[font="):
        tag = right[: right.index("]") + 1]
        opened = left.rfind("[font=")
        if opened >= 0 and left.startswith(tag, opened):
            return left[: -len("[/font]")] + right[len(tag) :]
    return left + right


def _line_offset(text: str, line: int) -> int:
    """Character offset where line number `line` (0-based) starts."""
    pos = 0
    for _ in range(line):
        nxt = text.find("\n", pos)
        if nxt < 0:
            return len(text)
        pos = nxt + 1
    return pos


_TAG = re.compile(
    r"\[(/?)(b|i|u|s|sub|sup|color|font|size|ref|anchor|font_context|font_family|font_features)(=[^\]]*)?\]"
)


def markup_plain(markup: str) -> str:
    """The text a Label shows for markup made here: tags removed, escapes decoded."""
    if "[" not in markup and "&" not in markup:
        return markup
    return _TAG.sub("", markup).replace("&bl;", "[").replace("&br;", "]").replace("&amp;", "&")


def split_markup(
    markup: str, max_chars: int, max_lines: int, separators: list[str] | None = None
) -> list[str]:
    """Cut markup into pieces of at most ~max_chars characters and max_lines lines, each with balanced tags.

    Cuts fall on line ends, else on spaces, never inside a tag or an escape; tags open at a cut are closed
    at the end of one piece and reopened at the start of the next, so each piece renders the same.
    `separators`, when given, receives for each cut the character the cut replaced ("\n", " " or "" for a
    word cut in two), so the text of the pieces can be joined back exactly.
    """
    if len(markup) <= max_chars and markup.count("\n") < max_lines:
        return [markup]
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []  # (name, full opening tag)
    start = 0
    lines = 0
    last_newline = -1
    last_space = -1
    i = 0
    n = len(markup)

    def cut_at(pos: int, skip: int) -> None:
        nonlocal start, lines, last_newline, last_space
        reopen = "".join(tag for _, tag in stack_at_start)
        closing = "".join(f"[/{name}]" for name, _ in reversed(stack_snapshot[pos]))
        pieces.append(reopen + markup[start:pos] + closing)
        if separators is not None:
            separators.append(markup[pos] if skip else "")
        stack_at_start[:] = stack_snapshot[pos]
        start = pos + skip
        lines = 0
        last_newline = last_space = -1

    stack_at_start: list[tuple[str, str]] = []
    stack_snapshot: dict[int, list[tuple[str, str]]] = {}
    while i < n:
        ch = markup[i]
        if ch == "[":
            m = _TAG.match(markup, i)
            if m:
                if m.group(1):
                    for k in range(len(stack) - 1, -1, -1):
                        if stack[k][0] == m.group(2):
                            del stack[k]
                            break
                else:
                    stack.append((m.group(2), m.group(0)))
                i = m.end()
                continue
        if ch == "\n":
            stack_snapshot[i] = list(stack)
            last_newline = i
            lines += 1
        elif ch == " ":
            stack_snapshot[i] = list(stack)
            last_space = i
        if (i - start >= max_chars or lines >= max_lines) and (last_newline > start or last_space > start):
            pos = last_newline if last_newline > start else last_space
            cut_at(pos, 1)
            stack_snapshot = {}
            i = start
            stack = list(stack_at_start)
            continue
        if i - start >= max_chars * 2:  # one enormous word: cut it outside any escape sequence
            pos = i
            amp = markup.rfind("&", start, pos)
            if amp >= 0 and ";" not in markup[amp:pos]:
                pos = amp
            stack_snapshot[pos] = list(stack)
            cut_at(pos, 0)
            stack_snapshot = {}
            i = start
            stack = list(stack_at_start)
            continue
        i += 1
    if start < n or not pieces:
        reopen = "".join(tag for _, tag in stack_at_start)
        pieces.append(reopen + markup[start:])
    return pieces


def split_lines(text: str, max_chars: int, max_lines: int) -> list[str]:
    """Cut plain text (code) into pieces of at most max_lines lines and about max_chars characters."""
    if len(text) <= max_chars and text.count("\n") < max_lines:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        while len(line) > max_chars:  # a single enormous line: hard-wrap it
            if current:
                pieces.append("\n".join(current))
                current, size = [], 0
            pieces.append(line[:max_chars])
            line = line[max_chars:]
        if current and (len(current) >= max_lines or size + len(line) > max_chars):
            pieces.append("\n".join(current))
            current, size = [], 0
        current.append(line)
        size += len(line) + 1
    if current:
        pieces.append("\n".join(current))
    return pieces

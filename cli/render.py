"""Showing a streamed reply: rich Markdown in a throttled Live display on a terminal, plain text otherwise.

During streaming the Live display shows only the bottom of the reply that fits the screen (so nothing is
drawn twice into the scrollback); it is rebuilt from the text received so far at each of its refreshes (8 a
second), so the last words before a pause are on screen too. When the reply ends the display is removed and
the whole reply is printed once as Markdown.
"""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, TextIO

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text

from core.i18n import _, format_decimal, format_number, ngettext

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.live import Live

    from core.ollama_client import Chunk, StreamStats

__all__ = ["ReplyRenderer", "format_stats", "make_consoles"]

_REFRESHES_PER_S = 8  # how often the live display is redrawn while a reply streams


def make_consoles(plain: bool) -> tuple[Console, Console]:
    """Consoles for stdout and stderr; plain means no colours, no Markdown, no cursor tricks."""
    if plain:
        out = Console(
            file=sys.stdout,
            no_color=True,
            highlight=False,
            markup=False,
            emoji=False,
            force_terminal=False,
            soft_wrap=True,
        )
        err = Console(
            file=sys.stderr,
            no_color=True,
            highlight=False,
            markup=False,
            emoji=False,
            force_terminal=False,
            soft_wrap=True,
        )
        return out, err
    # No markup or emoji codes: replies, titles and paths print as they are, brackets included; the
    # terminal wraps long lines itself, so a message stays one line when captured.
    return (
        Console(highlight=False, markup=False, emoji=False, soft_wrap=True),
        Console(stderr=True, highlight=False, markup=False, emoji=False, soft_wrap=True),
    )


class _LiveReply:
    """The live display's content: the bottom of the reply received so far, rendered when the display refreshes.

    The rendered lines are kept until more text arrives or the terminal changes size, so a refresh during a
    pause costs nothing."""

    def __init__(self, renderer: ReplyRenderer) -> None:
        self.renderer = renderer
        self._key: tuple[int, int, int, int] | None = None
        self._lines: list[list[Segment]] = []

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        text, thinking = self.renderer.snapshot()
        height = max(1, console.size.height - 1)
        key = (len(text), len(thinking), options.max_width, height)
        if key != self._key:
            from rich.markdown import Markdown

            body: RenderableType = (
                Markdown(text)
                if text
                else Text(_("Thinking… {text}").format(text=thinking), style="dim italic")  # i18n: a style
            )
            self._lines = console.render_lines(body, options, pad=False)[-height:]
            self._key = key
        for line in self._lines:
            yield from line
            yield Segment.line()


def format_stats(stats: StreamStats) -> str:
    """One line of timings for DEV mode: time to first token, generation speed, total time, tokens."""
    parts = []
    if stats.ttft_s is not None:
        parts.append(_("first token {seconds} s").format(seconds=format_decimal(stats.ttft_s, 2)))
    if stats.gen_tps is not None:
        parts.append(_("{rate} tok/s").format(rate=format_decimal(stats.gen_tps, 1)))
    elif not stats.counts_from:
        parts.append(_("tok/s not reported (the server sent no token counts)"))
    parts.append(_("total {seconds} s").format(seconds=format_decimal(stats.total_s, 2)))
    if stats.eval_count is not None:
        count = stats.eval_count
        parts.append(ngettext("{count} token", "{count} tokens", count).format(count=format_number(count)))
    if stats.prompt_eval_count is not None:
        count = stats.prompt_eval_count
        message = ngettext("prompt {count} token", "prompt {count} tokens", count)
        parts.append(message.format(count=format_number(count)))
    if stats.load_s:
        parts.append(_("load {seconds} s").format(seconds=format_decimal(stats.load_s, 2)))
    if stats.done_reason and stats.done_reason != "stop":
        parts.append(_("done: {reason}").format(reason=stats.done_reason))
    return " · ".join(parts)


class ReplyRenderer:
    """Receives chunks (from a worker thread) and shows them; ``close()`` prints the final form."""

    def __init__(self, console: Console, *, plain: bool, stream: TextIO | None = None) -> None:
        self.console = console
        self.plain = plain or not console.is_terminal
        self._out = stream or console.file
        self._lock = threading.Lock()
        self._text: list[str] = []
        self._thinking: list[str] = []
        self._live: Live | None = None
        self._plain_ends_newline = True
        self._closed = False

    def __enter__(self) -> ReplyRenderer:
        if not self.plain:
            from rich.live import Live

            self._live = Live(
                _LiveReply(self),
                console=self.console,
                refresh_per_second=_REFRESHES_PER_S,
                transient=True,
                auto_refresh=True,
            )
            self._live.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def text(self) -> str:
        return "".join(self._text)

    def add(self, chunk: Chunk) -> None:
        """Show one chunk (content or thinking); stats chunks are ignored here."""
        from core.ollama_client import ContentChunk, ThinkingChunk

        with self._lock:
            if isinstance(chunk, ContentChunk):
                self._text.append(chunk.text)
                if self.plain:
                    self._out.write(chunk.text)
                    self._out.flush()
                    self._plain_ends_newline = chunk.text.endswith("\n")
            elif isinstance(chunk, ThinkingChunk):
                self._thinking.append(chunk.text)

    def snapshot(self) -> tuple[str, str]:
        """The reply and the thinking received so far."""
        with self._lock:
            return "".join(self._text), "".join(self._thinking)

    def close(self) -> None:
        """Stop the live display and print the whole reply once (rich) or end the line (plain)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            live, self._live = self._live, None
        if live is not None:
            # Outside our lock: the display's refresh thread holds its own lock while it reads the text.
            live.stop()
            text, thinking = self.snapshot()
            if thinking:
                count = len(thinking)
                note = ngettext("(thought for {count} character)", "(thought for {count} characters)", count)
                shown = note.format(count=format_number(count))
                self.console.print(Text(shown, style="dim italic"))  # i18n: a style
            if text:
                from rich.markdown import Markdown

                self.console.print(Markdown(text))
        elif self.plain and not self._plain_ends_newline:
            self._out.write("\n")
            self._out.flush()

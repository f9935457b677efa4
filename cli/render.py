"""Showing a streamed reply: rich Markdown in a throttled Live display on a terminal, plain text otherwise.

During streaming the Live display shows only the bottom of the reply that fits the screen (so nothing is
drawn twice into the scrollback); when the reply ends the display is removed and the whole reply is printed
once as Markdown.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import TYPE_CHECKING, TextIO

from rich.console import Console, ConsoleOptions, RenderResult
from rich.segment import Segment
from rich.text import Text

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.live import Live

    from core.ollama_client import Chunk, StreamStats

__all__ = ["ReplyRenderer", "format_stats", "make_consoles"]

_REFRESH_S = 0.12  # rebuild the Markdown at most this often while streaming


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


class _Tail:
    """Render the bottom ``height`` lines of a renderable (the part of a long reply that is on screen)."""

    def __init__(self, renderable: RenderableType, height: int) -> None:
        self.renderable = renderable
        self.height = max(1, height)

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        lines = console.render_lines(self.renderable, options, pad=False)
        for line in lines[-self.height :]:
            yield from line
            yield Segment.line()


def format_stats(stats: StreamStats) -> str:
    """One line of timings for DEV mode: time to first token, generation speed, total time, tokens."""
    parts = []
    if stats.ttft_s is not None:
        parts.append(f"first token {stats.ttft_s:.2f} s")
    if stats.gen_tps is not None:
        parts.append(f"{stats.gen_tps:.1f} tok/s")
    parts.append(f"total {stats.total_s:.2f} s")
    if stats.eval_count is not None:
        parts.append(f"{stats.eval_count} tokens")
    if stats.prompt_eval_count is not None:
        parts.append(f"prompt {stats.prompt_eval_count} tokens")
    if stats.load_s:
        parts.append(f"load {stats.load_s:.2f} s")
    if stats.done_reason and stats.done_reason != "stop":
        parts.append(f"done: {stats.done_reason}")
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
        self._last = 0.0
        self._plain_ends_newline = True
        self._closed = False

    def __enter__(self) -> ReplyRenderer:
        if not self.plain:
            from rich.live import Live

            self._live = Live(
                Text(""), console=self.console, refresh_per_second=8, transient=True, auto_refresh=True
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
            else:
                return
            if self._live is not None and time.monotonic() - self._last >= _REFRESH_S:
                self._last = time.monotonic()
                self._live.update(self._tail())

    def _tail(self) -> RenderableType:
        from rich.markdown import Markdown

        height = self.console.size.height - 1
        if not self._text:
            thinking = "".join(self._thinking)
            return _Tail(Text(f"Thinking… {thinking}", style="dim italic"), height)
        return _Tail(Markdown(self.text), height)

    def close(self) -> None:
        """Stop the live display and print the whole reply once (rich) or end the line (plain)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            if self._live is not None:
                self._live.stop()
                self._live = None
                if self._thinking:
                    self.console.print(
                        Text(f"(thought for {len(''.join(self._thinking))} characters)", style="dim italic")
                    )
                if self._text:
                    from rich.markdown import Markdown

                    self.console.print(Markdown(self.text))
            elif self.plain and not self._plain_ends_newline:
                self._out.write("\n")
                self._out.flush()

"""Playing one ChatTurn on the terminal: stream it through the renderer, Ctrl-C stops it, then report."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cli.background import run_interruptible
from cli.render import ReplyRenderer, format_stats
from core.i18n import N_, _

if TYPE_CHECKING:
    from rich.console import Console

    from core.chat import ChatTurn

__all__ = ["INTERRUPTED_MARK", "LENGTH_NOTE", "play_turn"]

INTERRUPTED_MARK = N_("[interrupted: the partial reply is kept]")
LENGTH_NOTE = N_("[the reply reached its length limit: raise it with /set num_predict N, or -1 for no limit]")


def play_turn(
    turn: ChatTurn, out: Console, err: Console, *, plain: bool, dev: bool, show: bool = True
) -> bool:
    """Stream ``turn`` (shown on ``out`` unless ``show`` is False); returns True when Ctrl-C stopped it.

    Notes (fallback model used), the interrupted mark, the error sentence and DEV timings go to ``err``.
    """
    renderer = ReplyRenderer(out, plain=plain)

    def work() -> None:
        if not show:
            for _chunk in turn:
                pass
            return
        with renderer:
            for chunk in turn:
                renderer.add(chunk)

    _result, interrupted = run_interruptible(work, turn.cancel)
    for note in turn.notes:
        err.print(note, style="yellow")
    if turn.cancelled or interrupted:
        err.print(_(INTERRUPTED_MARK), style="yellow")
    if turn.error is not None:
        err.print(str(turn.error), style="bold red")  # i18n: a style
        return interrupted or turn.cancelled
    if turn.stats is not None and turn.stats.done_reason == "length":
        err.print(_(LENGTH_NOTE), style="yellow")
    if dev and turn.stats is not None:
        err.print(format_stats(turn.stats), style="dim")
    return interrupted or turn.cancelled

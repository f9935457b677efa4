"""The system clipboard through pyperclip (xclip or xsel on Linux), with one clear message when it fails."""

from __future__ import annotations

from core.i18n import _

__all__ = ["ClipboardError", "copy_text"]


class ClipboardError(Exception):
    """The clipboard cannot be used here; the message says what is missing."""


def copy_text(text: str) -> None:
    """Put ``text`` on the clipboard or raise ClipboardError saying why it cannot."""
    import pyperclip

    try:
        pyperclip.copy(text)
    except pyperclip.PyperclipException as exc:
        raise ClipboardError(
            _(
                "Cannot use the clipboard: it needs xclip or xsel and a graphical session (DISPLAY) on Linux "
                "({reason})."
            ).format(reason=str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        ) from exc
    except OSError as exc:
        raise ClipboardError(_("Cannot use the clipboard: {reason}.").format(reason=exc)) from exc

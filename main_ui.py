"""Start the IA_V3 desktop app: `python main_ui.py [--embedded auto|force|off] [--model NAME] [--home DIR]
[--lang auto|en|fr]`.

The window opens at once and says "Connecting…"; Ollama is looked for (OLLAMA_HOST) in the background, and
when none answers the embedded llama.cpp backend starts with smollm2:135m. The interface speaks the language
of ``--lang`` for this run, else the one chosen in the app's settings (config.toml ``language``), else the
system locale's (``LANG``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from core import i18n
from core.i18n import _

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    # prog: the name it was started by, main_ui.py or iav3-ui (the console script)
    parser = argparse.ArgumentParser(description=_("IA_V3 desktop chat for local models"))
    parser.add_argument(
        "--embedded", choices=("auto", "force", "off"), help=_("embedded backend use (default auto)")
    )
    parser.add_argument(
        "--model", help=_("model to select (default: the last one, else smollm2:135m on embedded)")
    )
    parser.add_argument("--home", help=_("IA_HOME folder (conversations, logs, data)"))
    parser.add_argument(
        "--host",
        dest="ollama_host",
        help=_(
            "server for this run: Ollama, or OpenAI-compatible (a URL ending in /v1, or openai:URL) "
            "(default: the one chosen last in the backend panel, else OLLAMA_HOST or 127.0.0.1:11434)"
        ),
    )
    parser.add_argument("--theme", choices=("light", "dark"))
    parser.add_argument(
        "--dev", dest="dev_mode", action="store_true", default=None, help=_("DEV mode (speed records)")
    )
    parser.add_argument(
        "--lang",
        choices=("auto", *i18n.LANGUAGES),
        help=_(
            "interface language for this run (default: the one chosen in the app's settings, else the "
            "system's, LANG)"
        ),
    )
    return parser


def _early_language(argv: Sequence[str] | None) -> None:
    """--lang, read before the parser is made, so that --help and the parser's errors speak it."""
    early = argparse.ArgumentParser(add_help=False)
    early.add_argument("--lang")
    known, _rest = early.parse_known_args(argv)
    try:
        i18n.set_language(known.lang or os.environ.get("IA_LANG") or None)
    except ValueError:
        pass  # the full parser names the choices


def main(argv: Sequence[str] | None = None) -> int:
    _early_language(argv)
    args = build_parser().parse_args(argv)
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our flags are ours, not Kivy's
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from config import load_settings
    from core.errors import IAError

    flags = {k: v for k, v in vars(args).items() if k != "lang"}  # --lang is for this run, never saved
    try:
        settings = load_settings(flags)
    except IAError as exc:
        print(_("error: {detail}").format(detail=exc), file=sys.stderr)
        return 2
    i18n.set_language(args.lang or settings.language)
    try:
        from core.logs import setup_technical_log

        setup_technical_log(settings)
    except (ImportError, IAError, OSError) as exc:
        print(_("warning: technical log unavailable: {detail}").format(detail=exc), file=sys.stderr)
    from ui.graphics import configure_window, no_display_message

    configure_window(settings.ui)  # before ui.app imports Kivy's Window, which creates the window
    from kivy.core.window import Window  # opens the window now, to check it can be seen

    if Window is None:  # Kivy logged why (to the technical log) and gave up
        from core.logs import TECHNICAL_LOG

        print(
            _(
                "error: Kivy could not open a window (no working window provider or OpenGL). On Debian/Ubuntu "
                "install `libgl1 libegl1 libgl1-mesa-dri libmtdev1`; Kivy's own reasons are in {log}. The "
                "terminal chat works without a window: `python main.py`."
            ).format(log=settings.logs_dir / TECHNICAL_LOG),
            file=sys.stderr,
        )
        return 1
    problem = no_display_message()
    if problem is not None:
        print(_("error: {detail}").format(detail=problem), file=sys.stderr)
        return 1
    from ui.app import IAApp

    IAApp(settings, use_remembered_host=args.ollama_host is None, language=args.lang).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Start the IA_V3 desktop app: `python main_ui.py [--embedded auto|force|off] [--model NAME] [--home DIR]`.

The window opens at once and says "Connecting…"; Ollama is looked for (OLLAMA_HOST) in the background, and
when none answers the embedded llama.cpp backend starts with smollm2:135m.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    # prog: the name it was started by, main_ui.py or iav3-ui (the console script)
    parser = argparse.ArgumentParser(description="IA_V3 desktop chat for local models")
    parser.add_argument(
        "--embedded", choices=("auto", "force", "off"), help="embedded backend use (default auto)"
    )
    parser.add_argument(
        "--model", help="model to select (default: the last one, else smollm2:135m on embedded)"
    )
    parser.add_argument("--home", help="IA_HOME folder (conversations, logs, data)")
    parser.add_argument(
        "--host",
        dest="ollama_host",
        help="server for this run: Ollama, or OpenAI-compatible (a URL ending in /v1, or openai:URL) "
        "(default: the one chosen last in the backend panel, else OLLAMA_HOST or 127.0.0.1:11434)",
    )
    parser.add_argument("--theme", choices=("light", "dark"))
    parser.add_argument(
        "--dev", dest="dev_mode", action="store_true", default=None, help="DEV mode (speed records)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    os.environ.setdefault("KIVY_NO_ARGS", "1")  # our flags are ours, not Kivy's
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")
    from config import load_settings
    from core.errors import IAError

    try:
        settings = load_settings(vars(args))
    except IAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        from core.logs import setup_technical_log

        setup_technical_log(settings)
    except (ImportError, IAError, OSError) as exc:
        print(f"warning: technical log unavailable: {exc}", file=sys.stderr)
    from ui.graphics import configure_window, no_display_message

    configure_window(settings.ui)  # before ui.app imports Kivy's Window, which creates the window
    from kivy.core.window import Window  # opens the window now, to check it can be seen

    if Window is None:  # Kivy logged why (to the technical log) and gave up
        from core.logs import TECHNICAL_LOG

        print(
            "error: Kivy could not open a window (no working window provider or OpenGL). On Debian/Ubuntu "
            "install `libgl1 libegl1 libgl1-mesa-dri libmtdev1`; Kivy's own reasons are in "
            f"{settings.logs_dir / TECHNICAL_LOG}. The terminal chat works without a window: `python main.py`.",
            file=sys.stderr,
        )
        return 1
    problem = no_display_message()
    if problem is not None:
        print(f"error: {problem}", file=sys.stderr)
        return 1
    from ui.app import IAApp

    IAApp(settings, use_remembered_host=args.ollama_host is None).run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

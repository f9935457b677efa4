"""IA_V3 command-line chat: ``python main.py`` (interactive) or ``python main.py "PROMPT"`` (one-shot)."""

from __future__ import annotations

import sys

from cli.app import main

if __name__ == "__main__":
    sys.exit(main())

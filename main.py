"""IA_V3 command-line chat: ``python main.py`` (interactive) or ``python main.py "PROMPT"`` (one-shot)."""

from __future__ import annotations

import sys

# httpcore imports trio at start-up only to learn whether it runs under trio, which this app never does;
# marking it absent saves about a tenth of a second of every CLI start (see bench/cli_start.py).
sys.modules.setdefault("trio", None)  # type: ignore[arg-type]

from cli.app import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())

"""The command-line chat (``python main.py``, or the ``iav3`` console script): interactive REPL, one-shot prompts
and slash commands."""

import sys

# httpcore imports trio on the first request only to learn whether it runs under trio, which the CLI never
# does; marking it absent saves about a tenth of a second of every start (see bench/cli_start.py). main.py
# does the same before anything else; this covers `iav3`, whose console script imports cli.app directly.
sys.modules.setdefault("trio", None)  # type: ignore[arg-type]

__all__: list[str] = []

"""The command-line chat (``python main.py``): interactive REPL, one-shot prompts and slash commands."""

__all__: list[str] = []

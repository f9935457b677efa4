"""Built-in problem suites shipped as package data (ia_basic.jsonl) and their sources."""

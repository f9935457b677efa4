"""Benchmark preset 'deepseek': runs ollama_configs/deepseek_tests/preset.toml (see its README.md); flags override it."""

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.benchmark_preset import preset_command

main = preset_command("deepseek")

if __name__ == "__main__":
    sys.exit(main())

"""Benchmark preset 'llava': runs ollama_configs/llava_tests/preset.toml (see its README.md); flags override it.

The preset runs the multimodal suite: images drawn by code, questions with known answers (count the shapes,
name the colour, read the word), answers scored exactly. The model must have the vision capability.
"""

import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tools.benchmark_preset import preset_command

main = preset_command("llava")

if __name__ == "__main__":
    sys.exit(main())

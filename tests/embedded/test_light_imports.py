"""core.embedded stays light: a caller that needs a record type or a constant does not load the server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
HEAVY = ("starlette", "uvicorn", "httpx", "llama_cpp")


def _loaded_after(statement: str) -> list[str]:
    """Which heavy modules a fresh interpreter holds after running ``statement``."""
    code = f"import sys\n{statement}\nimport json\nprint(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    return json.loads(proc.stdout)


@pytest.mark.parametrize(
    "statement",
    [
        "import core.embedded",
        "from core.embedded.engine import ModelCard, EngineError",
        "from core.embedded.protocol import expires_at",
        "from core.embedded.prompts import BASE_STOP",
        "from core.embedded.catalog import MODEL_CACHE",
    ],
)
def test_importing_a_constant_or_record_loads_no_server_nor_llama_cpp(statement: str) -> None:
    assert _loaded_after(statement) == []


def test_the_package_s_public_names_still_import_on_first_use() -> None:
    loaded = _loaded_after(
        "import core.embedded as e\n"
        "assert e.ModelCard.__module__ == 'core.embedded.engine'\n"
        "assert e.EmbeddedServer.__module__ == 'core.embedded.server'\n"
        "assert e.build_app.__module__ == 'core.embedded.app'\n"
        "assert e.ScriptedEngine.__module__ == 'core.embedded.scripted'\n"
        "assert all(hasattr(e, n) for n in e.__all__ if n != 'LlamaEngine')  # that one needs llama-cpp"
    )
    assert {"starlette", "uvicorn"} <= set(loaded)  # asked for, so loaded
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        import core.embedded

        core.embedded.Nope  # noqa: B018

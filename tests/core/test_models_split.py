"""core/models.py is split by what it holds: the wire records (core/model_records.py) need neither psutil nor
the client, this machine's resources and fit (core/machine.py) need no server, and the manager
(core/models.py) holds only the manager and the fallback chain."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROBE = """
import json, sys
import {module}
print(json.dumps(sorted(m for m in ("psutil", "ollama", "httpx", "core.models", "core.ollama_client",
                                    "core.machine", "core.model_records") if m in sys.modules)))
"""


def _imports(module: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(module=module)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_each_part_brings_only_what_it_needs():
    assert _imports("core.model_records") == ["core.model_records"]
    assert _imports("core.machine") == ["core.machine", "core.model_records", "psutil"]


def test_the_manager_module_holds_the_manager_and_the_fallback_chain():
    import core.machine
    import core.model_records
    import core.models

    assert core.models.__all__ == ["ModelManager", "is_out_of_memory", "with_fallback"]
    assert set(core.model_records.__all__) == {"ModelDetails", "ModelInfo", "PullProgress", "RunningModel"}
    assert {"MachineResources", "FitVerdict", "GpuInfo", "fits", "machine_resources"} <= set(
        core.machine.__all__
    )

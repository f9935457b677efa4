"""The bwrap level hides the project, the working directory, $HOME and IA_HOME wherever they are, not only
the usual /home, /root and /work: a CI clone in /opt or /srv must be as invisible as one in /work."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from core.benchmark.sandbox import Limits, Sandbox, bwrap_hiding, private_dirs

pytestmark = pytest.mark.skipif(not shutil.which("bwrap"), reason="bwrap is not installed")

REPO = Path(__file__).resolve().parents[2]
PROBE = "import os\ntry:\n    seen = sorted(os.listdir({path!r}))\nexcept OSError:\n    seen = []\n"
TEST = "assert seen == [], seen\n"


def _hidden_by_private_dirs(path: str, dirs: list[str]) -> bool:
    return path in dirs or any(path.startswith(d + "/") for d in dirs)


def test_the_project_is_covered_wherever_it_is_cloned():
    """The project is hidden by a covering tmpfs, or lies under /tmp, which the sandbox replaces by its own
    tmpfs (a clone in /tmp used to fail this test, whose assumption was wrong: see the probe below)."""
    dirs = private_dirs()
    project = str(REPO.resolve())
    assert _hidden_by_private_dirs(project, dirs) or project == "/tmp" or project.startswith("/tmp/")
    assert all(d not in ("/", "/usr", "/etc", "/bin", "/lib") for d in dirs)
    assert not any(d == "/tmp" or d.startswith("/tmp/") for d in dirs)
    assert dirs == sorted(dirs, key=len)


def test_the_sample_cannot_see_the_project_or_its_data():
    """What the sample sees, wherever the clone is (/tmp, /opt, /root): not this file, not the README."""
    probe = (
        f"import os\nseen = [p for p in ({str(REPO / 'README.md')!r}, {__file__!r}) if os.path.exists(p)]\n"
    )
    result = Sandbox.detect("bwrap").run(probe, "assert seen == [], seen\n", "", Limits(timeout_s=10))
    assert result.passed, result.result


def test_a_directory_outside_the_usual_places_is_hidden_when_it_is_the_working_directory(monkeypatch):
    """A world-readable directory in /opt, made the working directory, cannot be listed from the sandbox;
    the same probe in a bare rlimits sandbox (no mount namespace, no Landlock) sees its file, so the probe
    is real."""
    place = Path("/opt") / f"ia-hide-probe-{os.getpid()}"
    try:
        place.mkdir(mode=0o755)
    except OSError as error:
        pytest.skip(f"cannot create a directory in /opt here: {error}")
    try:
        (place / "visible.txt").write_text("x")
        place.chmod(0o755)
        (place / "visible.txt").chmod(0o644)
        monkeypatch.chdir(place)
        assert str(place) in private_dirs()
        code = PROBE.format(path=str(place))
        hidden = Sandbox.detect("bwrap").run(code, TEST, "", Limits(timeout_s=10))
        assert hidden.passed, hidden.result
        # Without namespaces and Landlock (a bare rlimits sandbox) the same probe sees the file: it is real.
        bare = Sandbox("rlimits", Sandbox.detect("rlimits").python)
        bare.landlock = False
        exposed = bare.run(code, TEST, "", Limits(timeout_s=10))
        assert not exposed.passed and "visible.txt" in exposed.result
        # Landlock alone (the rlimits level where the kernel has it) hides it too.
        if Sandbox.detect("rlimits").landlock:
            assert Sandbox.detect("rlimits").run(code, TEST, "", Limits(timeout_s=10)).passed
    finally:
        shutil.rmtree(place, ignore_errors=True)


def test_an_interpreter_living_under_a_hidden_directory_is_bound_back():
    """When the interpreter's prefix lies under a hidden directory, it is bound back read-only, and a
    private directory inside that prefix is covered again after it."""
    args = bwrap_hiding(sys.executable)
    tmpfs = [args[i + 1] for i, a in enumerate(args) if a == "--tmpfs"]
    binds = [args[i + 1] for i, a in enumerate(args) if a == "--ro-bind"]
    for bound in binds:
        assert any(bound.startswith(t + "/") or bound == t for t in tmpfs), (bound, tmpfs)
        assert args.index(bound) > min(args.index(t) for t in tmpfs)


def test_sandboxed_python_runs_from_an_unusual_project_location():
    """A fresh clone of the project in /opt, tested from there, still sandboxes (the CI layout)."""
    target = Path("/opt") / f"ia-clone-probe-{os.getpid()}"
    try:
        shutil.copytree(REPO / "core", target / "core", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copy(REPO / "config.py", target / "config.py")
    except OSError as error:
        pytest.skip(f"cannot copy the project to /opt here: {error}")
    try:
        probe = f"import os\nseen = os.path.exists({str(target / 'config.py')!r})\n"
        script = (
            "import core.benchmark.sandbox as sandbox\n"
            f"assert sandbox.__file__.startswith({str(target)!r}), sandbox.__file__\n"
            "box = sandbox.Sandbox.detect('bwrap')\n"
            f"r = box.run({probe!r}, 'assert not seen', '', sandbox.Limits(timeout_s=10))\n"
            "print(r.passed, r.result)\n"
        )
        out = subprocess.run(
            [sys.executable, "-c", script], cwd=target, capture_output=True, text=True, timeout=120
        )
        assert out.stdout.strip() == "True passed", out.stdout + out.stderr
    finally:
        shutil.rmtree(target, ignore_errors=True)

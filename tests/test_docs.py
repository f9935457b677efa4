"""The docs stand on their own: every link inside the repository resolves, and nothing points at files or
discussions a reader of the repository cannot see (a design file kept elsewhere, issue numbers)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
_LINK = re.compile(r"\]\(<?([^)>\s]+)>?\)")
_OUTSIDE = re.compile(
    r"DESIGN\.md|ollama-api\.md|STYLE\.md|\.\./shared|/work/|\bissues? #?\d+", re.IGNORECASE
)


def _markdown_files() -> list[Path]:
    try:
        listed = subprocess.run(
            ["git", "ls-files", "*.md"], cwd=REPO, capture_output=True, text=True, check=True
        ).stdout.split()
        files = [REPO / name for name in listed]
    except (OSError, subprocess.CalledProcessError):  # not a git checkout (an unpacked source archive)
        files = [p for p in REPO.rglob("*.md") if not {".git", "test-artifacts"} & set(p.parts)]
    return sorted(p for p in files if p.is_file() and "hostile" not in p.parts)


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_markdown_links_resolve_inside_the_repository(path: Path) -> None:
    broken = []
    for target in _LINK.findall(path.read_text(encoding="utf-8")):
        if re.match(r"[a-z]+:", target) or target.startswith("#"):
            continue  # a web address or an anchor
        resolved = (path.parent / target.split("#")[0]).resolve()
        if not resolved.is_relative_to(REPO) or not resolved.exists():
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: p.relative_to(REPO).as_posix())
def test_docs_cite_nothing_a_reader_of_the_repository_cannot_see(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    found = [f"line {text.count(chr(10), 0, m.start()) + 1}: {m.group()}" for m in _OUTSIDE.finditer(text)]
    assert found == []


def test_every_benchmark_script_is_described() -> None:
    described = (REPO / "bench" / "README.md").read_text(encoding="utf-8")
    scripts = sorted(p.name for p in (REPO / "bench").glob("*.py") if p.name != "__init__.py")
    assert [name for name in scripts if f"`{name}`" not in described] == []

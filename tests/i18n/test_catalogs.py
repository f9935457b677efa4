"""Every visible string is marked for translation and has its French; the catalogs match the sources.

The scan and its rules are tools/i18n_catalogs.py's (``python -m tools.i18n_catalogs check`` prints the
same list); these tests fail on each problem, one test per source file for unmarked strings.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tools import i18n_catalogs as cat

SOURCES = [p for p in cat.sources()]


@pytest.mark.parametrize("path", SOURCES, ids=[p.relative_to(cat.ROOT).as_posix() for p in SOURCES])
def test_every_visible_string_is_marked(path: Path) -> None:
    _found, unmarked = cat.scan(path)
    assert not unmarked, "\n".join(f"{u.path}:{u.line}: {u.text!r}" for u in unmarked)


def test_every_marked_string_is_in_the_catalogs_and_translated() -> None:
    problems = [p for p in cat.problems() if "not marked for translation" not in p]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("text", "prose"),
    [
        ("Copy", True),
        ("Run benchmark", True),
        ("Cannot reach {host}: {detail}.", True),
        ("[b]First token[/b]", True),
        ("Connecting…", True),
        ("text_muted", False),
        ("utf-8", False),
        ("smollm2:135m", False),
        ("RobotoMono-Regular", False),
        ("http://127.0.0.1:11434", False),
        ("{size} GB", False),
        ("%Y-%m-%d %H:%M", False),
        ("Ollama", False),
        ("left", False),
        ("core/locale", False),
    ],
)
def test_prose_is_told_from_identifiers(text: str, prose: bool) -> None:
    assert cat.is_prose(text) is prose


def test_the_scan_finds_unmarked_strings_and_accepts_marked_ones(tmp_path: Path, monkeypatch) -> None:
    """The checker itself: a label, an f-string and an error message are caught; marked, logged,
    docstring and explained strings are not."""
    source = '''
"""A module docstring with words."""
import logging
log = logging.getLogger(__name__)
def f(name):
    """A docstring with words."""
    log.warning("a log line with words %s", name)
    a = _("Marked label")
    b = ngettext("{n} file", "{n} files", 2)
    c = "Unmarked label"
    d = f"Hello {name}, welcome"
    e = "Sent to the model as is"  # i18n: a prompt for the model, not shown
    raise ConfigError(f"cannot read {name}")
'''
    folder = tmp_path / "ui"
    folder.mkdir()
    path = folder / "sample.py"
    path.write_text(source, encoding="utf-8")
    monkeypatch.setattr(cat, "ROOT", tmp_path)
    found, unmarked = cat.scan(path)
    assert {(m.msgid, m.plural) for m in found} == {("Marked label", None), ("{n} file", "{n} files")}
    assert [u.text for u in unmarked] == ["Unmarked label", "Hello , welcome", "cannot read "]


def test_the_scan_reads_kv_rules(tmp_path: Path, monkeypatch) -> None:
    folder = tmp_path / "ui"
    folder.mkdir()
    path = folder / "sample.kv"
    path.write_text(
        "<Box@BoxLayout>:\n"
        "    Label:\n"
        "        text: _('Run benchmark') if root.idle else 'Cancel'\n"
        "        color: theme.colors['text_muted']\n"
        "    Button:\n"
        "        text: 'Copy'\n",
        encoding="utf-8",
    )
    monkeypatch.setattr(cat, "ROOT", tmp_path)
    found, unmarked = cat.scan(path)
    assert [m.msgid for m in found] == ["Run benchmark"]
    assert [(u.line, u.text) for u in unmarked] == [(3, "Cancel"), (6, "Copy")]


def test_french_catalogs_use_two_plural_forms() -> None:
    for po in sorted((cat.LOCALE_DIR / "fr" / "LC_MESSAGES").glob("*.po")):
        assert "Plural-Forms: nplurals=2; plural=(n > 1);" in po.read_text(encoding="utf-8"), po


def test_no_translation_call_takes_a_computed_string() -> None:
    """``_(f"...")`` or ``_("a" + b)`` can never be in a catalog: only literals and names (N_ tables)."""
    bad = []
    for path in SOURCES:
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in cat.MARKERS:
                for arg in node.args[: 2 if node.func.id == "ngettext" else 1]:
                    if isinstance(arg, ast.JoinedStr | ast.BinOp):
                        bad.append(f"{path.relative_to(cat.ROOT)}:{node.lineno}")
    assert not bad, bad


def test_no_module_that_translates_rebinds_the_underscore() -> None:
    """``for _ in ...`` or ``lambda *_: ...`` in a module that imports ``_`` from core.i18n would make the
    next ``_("...")`` in that scope call a throwaway value: such modules use other names for those."""
    bad = []
    for path in SOURCES:
        if path.suffix != ".py":
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imports = any(
            isinstance(node, ast.ImportFrom)
            and node.module in ("core.i18n", "i18n")
            and any(alias.name == "_" for alias in node.names)
            for node in ast.walk(tree)
        )
        if not imports:
            continue
        for node in ast.walk(tree):
            rebinds = (isinstance(node, ast.Name) and node.id == "_" and isinstance(node.ctx, ast.Store)) or (
                isinstance(node, ast.arg) and node.arg == "_"
            )
            if rebinds:
                bad.append(f"{path.relative_to(cat.ROOT)}:{node.lineno}")
    assert not bad, bad

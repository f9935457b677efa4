"""The translation catalogs: which strings are marked, which visible strings are not, and the .po files.

    python -m tools.i18n_catalogs update     # add new marked strings to every .po, drop unused ones
    python -m tools.i18n_catalogs check      # list unmarked visible strings and missing translations

Marked strings are the literal first arguments of ``_()``, ``N_()`` and ``ngettext()`` (singular and plural)
in the Python sources, and of ``_()`` in the ``.kv`` files. Each source area has its own catalog file:
``core/locale/<lang>/LC_MESSAGES/<area>.po`` (see ``area_of``). English is the source language: the ``en``
catalogs list every string with an empty translation (the source is shown), ready for wording changes.

A *visible* string is prose: two words or more, or one capitalised word ("Copy"), once placeholders and
markup are taken out. In the interface packages (``ui``, ``cli``, ``benchcli``, the ``main*`` scripts) every
prose literal must be marked, except docstrings, log calls, and lines that say why not with a comment
``# i18n: <reason>`` (text sent to a model, a file format's fixed words, ...). In ``core`` the messages of
IA_V3's user-facing exceptions (the ``IAError`` family) must be marked. f-strings cannot be translated: a
visible one is reported as unmarked; write ``_("... {name} ...").format(name=...)`` instead.
"""

from __future__ import annotations

import ast
import re
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE_DIR = ROOT / "core" / "locale"
LANGUAGES = ("en", "fr")
MARKERS = {"_", "N_", "ngettext"}
INTERFACE = ("ui", "cli", "benchcli")
INTERFACE_SCRIPTS = ("main.py", "main_ui.py", "main_benchmark.py")
# Core modules whose every prose string is shown: the messages of failures, written for people.
INTERFACE_CORE = ("core/errors.py", "core/ollama_errors.py", "core/openai_errors.py", "core/i18n.py")
LOG_METHODS = {"debug", "info", "warning", "warn", "error", "exception", "critical", "log"}
# Names that stay as they are in every language (a single capitalised word is otherwise prose).
PROPER_NAMES = {
    "Arabic", "Android", "Anthropic", "Babel", "ChatGPT", "Claude", "Copy", "Debian", "Gemma", "GitHub", "Hugging",
    "Kivy", "Linux", "Markdown", "Mistral", "Ollama", "OpenAI", "Python", "Qwen", "Roboto", "SmolLM",
    "Ubuntu", "Windows", "Xvfb", "macOS",
}  # fmt: skip
PROPER_NAMES.discard("Copy")


LANGUAGE_NAMES = {"en": "English", "fr": "French"}
PLURALS = {"en": (2, "(n != 1)"), "fr": (2, "(n > 1)")}
FIXED_DATE = datetime(2026, 12, 4, tzinfo=UTC)
HEADER = (
    "# {language} translations of IA_V3's interface.\n"
    "# Updated by `python -m tools.i18n_catalogs update`; translate the empty msgstr entries by hand."
)


@dataclass(frozen=True)
class Message:
    msgid: str
    plural: str | None
    path: str  # relative to the checkout
    line: int


@dataclass(frozen=True)
class Unmarked:
    path: str
    line: int
    text: str


def area_of(rel: str) -> str:
    """The catalog file a source's strings go to."""
    if rel.startswith(("ui/info_panel", "ui/panels/")):
        return "panel"
    if rel.startswith("ui/benchmark_screen") or rel.startswith(("benchcli/", "main_benchmark")):
        return "bench"
    if rel.startswith("ui/") or rel == "main_ui.py":
        return "ui"
    if rel.startswith("cli/") or rel == "main.py":
        return "cli"
    return "core"


def sources() -> Iterator[Path]:
    """Every Python and kv source of the program (not its tests, tools or benchmarks)."""
    for name in INTERFACE_SCRIPTS + ("config.py",):
        yield ROOT / name
    for package in ("core", "ui", "cli", "benchcli"):
        for path in sorted((ROOT / package).rglob("*")):
            if path.suffix in (".py", ".kv") and "__pycache__" not in path.parts:
                yield path


def is_interface(rel: str) -> bool:
    return rel in INTERFACE_SCRIPTS or rel in INTERFACE_CORE or rel.split("/")[0] in INTERFACE


_PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([^)]*\)[sdifr]|%[sdifr]")
_MARKUP = re.compile(r"\[/?[a-z][a-z_ #=.,0-9A-Za-z-]*\]")
_WORD = re.compile(r"[^\W\d_][^\W\d_']+")


def is_prose(text: str) -> bool:
    """Whether ``text`` reads as words a person is meant to read (see the module's docstring)."""
    stripped = _MARKUP.sub(" ", _PLACEHOLDER.sub(" ", text))
    if "://" in stripped:
        stripped = re.sub(r"\S+://\S*", " ", stripped)
    words = _WORD.findall(stripped)
    if not words:
        return False
    two_words = re.search(r"[^\W\d_]{2,}[^\S\n]*[\s,.:;!?…·—-]+[^\S\n]*[^\W\d_]{2,}", stripped)
    # two words apart, not one identifier (snake_case, dotted.name, kebab-case, path/with/slashes)
    if len(words) >= 2 and two_words and not re.fullmatch(r"[\w.:/@+-]+", stripped.strip()):
        return True
    word = words[0]
    return (
        len(words) == 1
        and len(word) >= 3
        and word[0].isupper()
        and word[1:].islower()
        and word not in PROPER_NAMES
        and stripped.strip(" .:!?…").strip() == word
    )


def _comment_lines(source: str) -> dict[int, str]:
    out = {}
    for number, line in enumerate(source.splitlines(), 1):
        match = re.search(r"#\s*i18n:\s*(\S.*)$", line)
        if match:
            out[number] = match.group(1)
    return out


def _callee(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _is_log_call(node: ast.Call) -> bool:
    func = node.func
    if not (isinstance(func, ast.Attribute) and func.attr in LOG_METHODS):
        return False
    owner = func.value
    name = owner.attr if isinstance(owner, ast.Attribute) else getattr(owner, "id", "")
    return "log" in name.lower()


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def _parents(tree: ast.AST) -> dict[int, ast.AST]:
    parents = {}
    for node in ast.walk(tree):
        for child in ast.iter_child_nodes(node):
            parents[id(child)] = node
    return parents


def _error_classes() -> set[str]:
    """IAError and every class defined under core/ that derives from it, by name."""
    names = {"IAError"}
    trees = [ast.parse(p.read_text(encoding="utf-8")) for p in (ROOT / "core").rglob("*.py")]
    grew = True
    while grew:
        grew = False
        for tree in trees:
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef) and node.name not in names:
                    bases = {getattr(b, "id", getattr(b, "attr", None)) for b in node.bases}
                    if bases & names:
                        names.add(node.name)
                        grew = True
    return names


_ERRORS: set[str] | None = None


def error_classes() -> set[str]:
    global _ERRORS
    if _ERRORS is None:
        _ERRORS = _error_classes()
    return _ERRORS


def _literal(node: ast.AST) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) else None


def _scan_expression(tree: ast.AST, rel: str, line_offset: int, comments: dict[int, str], interface: bool):
    """(messages, unmarked, non-literal marks) of one parsed Python tree."""
    messages: list[Message] = []
    unmarked: list[Unmarked] = []
    parents = _parents(tree)
    docstrings = _docstrings(tree)
    errors = error_classes()

    def line_of(node: ast.AST) -> int:
        return getattr(node, "lineno", 1) + line_offset

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and _callee(node) in MARKERS and isinstance(node.func, ast.Name):
            name = node.func.id
            first = _literal(node.args[0]) if node.args else None
            if name == "ngettext" and len(node.args) >= 2:
                plural = _literal(node.args[1])
                if first is not None and plural is not None:
                    messages.append(Message(first, plural, rel, line_of(node)))
                    continue
            elif first is not None:
                messages.append(Message(first, None, rel, line_of(node)))
                continue
            if node.args and isinstance(node.args[0], ast.JoinedStr):
                unmarked.append(
                    Unmarked(rel, line_of(node), "f-string inside " + name + "(): not translatable")
                )

    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            text = "".join(
                v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            if isinstance(parents.get(id(node)), ast.JoinedStr):
                continue  # judged with its f-string
            text = node.value
        else:
            continue
        if id(node) in docstrings or not is_prose(text):
            continue
        first_line = line_of(node)
        last_line = getattr(node, "end_lineno", node.lineno) + line_offset
        shown = False
        relevant = interface
        ancestor = parents.get(id(node))
        statement_line = first_line
        while ancestor is not None:
            if isinstance(ancestor, ast.stmt):
                statement_line = min(statement_line, line_of(ancestor))
                break
            if isinstance(ancestor, ast.Call):
                callee = _callee(ancestor)
                if callee in MARKERS and isinstance(ancestor.func, ast.Name):
                    shown = True
                    break
                if _is_log_call(ancestor):
                    shown = True  # a log line: for developers, in English
                    break
                if callee in errors:
                    relevant = True
            ancestor = parents.get(id(ancestor))
        if shown or not relevant:
            continue
        if any(n in comments for n in range(statement_line, last_line + 1)):
            continue
        unmarked.append(Unmarked(rel, first_line, text))
    return messages, unmarked


_KV_PROPERTY = re.compile(r"^(\s*)([a-z_][A-Za-z0-9_]*)\s*:\s*(\S.*)$")


def scan(path: Path) -> tuple[list[Message], list[Unmarked]]:
    """The marked strings of one source file, and its visible strings that are not marked."""
    rel = path.relative_to(ROOT).as_posix()
    source = path.read_text(encoding="utf-8")
    comments = _comment_lines(source)
    interface = is_interface(rel)
    if path.suffix == ".py":
        return _scan_expression(ast.parse(source), rel, 0, comments, interface)
    messages: list[Message] = []
    unmarked: list[Unmarked] = []
    for number, line in enumerate(source.splitlines(), 1):
        if line.lstrip().startswith("#"):
            continue
        match = _KV_PROPERTY.match(line)
        if not match:
            continue
        value = match.group(3)
        try:
            tree = ast.parse(value.strip(), mode="eval")
        except SyntaxError:
            continue
        found, missing = _scan_expression(tree, rel, number - 1, comments, interface)
        messages += found
        unmarked += missing
    return messages, unmarked


def collect() -> tuple[dict[str, list[Message]], list[Unmarked]]:
    """Marked strings by catalog area, and every unmarked visible string."""
    by_area: dict[str, list[Message]] = {}
    unmarked: list[Unmarked] = []
    for path in sources():
        found, missing = scan(path)
        rel = path.relative_to(ROOT).as_posix()
        by_area.setdefault(area_of(rel), []).extend(found)
        unmarked += missing
    return by_area, unmarked


def placeholders(text: str) -> list[str]:
    return sorted(_PLACEHOLDER.findall(text))


def catalog_path(lang: str, area: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{area}.po"


def update() -> None:
    """Bring every catalog in line with the sources: new strings added (untranslated), unused ones dropped,
    existing translations kept."""
    from babel.messages.catalog import Catalog
    from babel.messages.pofile import read_po, write_po

    by_area, _unmarked = collect()
    for lang in LANGUAGES:
        for area, messages in sorted(by_area.items()):
            path = catalog_path(lang, area)
            old = None
            if path.exists():
                with path.open("rb") as handle:
                    old = read_po(handle, locale=lang)
            catalog = Catalog(
                locale=lang,
                project="IA_V3",
                version="3",
                charset="utf-8",
                fuzzy=False,
                header_comment=HEADER.format(language=LANGUAGE_NAMES[lang]),
                creation_date=FIXED_DATE,  # fixed: an update changes only what changed
                revision_date=FIXED_DATE,
                last_translator="IA_V3",
                language_team="IA_V3",
            )
            # GNU's French rule (0 and 1 singular, two forms) rather than CLDR's three forms
            catalog._num_plurals, catalog._plural_expr = PLURALS[lang]
            for message in messages:
                key = (message.msgid, message.plural) if message.plural else message.msgid
                previous = old.get(message.msgid) if old is not None else None
                string = previous.string if previous is not None else ("", "") if message.plural else ""
                if message.plural and isinstance(string, str):
                    string = (string, "")
                if not message.plural and isinstance(string, tuple):
                    string = string[0]
                existing = catalog.get(message.msgid)
                if existing is not None:
                    existing.locations.append((message.path, message.line))
                    continue
                catalog.add(key, string, locations=[(message.path, message.line)])
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("wb") as handle:
                write_po(handle, catalog, width=110, sort_output=False, include_lineno=False)


def problems() -> list[str]:
    """Everything the tests refuse: unmarked visible strings, strings without a French translation,
    translations whose placeholders differ from the source's, catalogs out of line with the sources."""
    from babel.messages.pofile import read_po

    by_area, unmarked = collect()
    out = [f"{u.path}:{u.line}: not marked for translation: {u.text!r}" for u in unmarked]
    for lang in LANGUAGES:
        for area, messages in sorted(by_area.items()):
            path = catalog_path(lang, area)
            if not path.exists():
                out.append(f"{path.relative_to(ROOT)}: missing (python -m tools.i18n_catalogs update)")
                continue
            with path.open("rb") as handle:
                catalog = read_po(handle, locale=lang)
            ids = {m.msgid for m in messages}
            for message in messages:
                entry = catalog.get(message.msgid)
                where = f"{message.path}:{message.line}"
                if entry is None:
                    out.append(f"{where}: {message.msgid!r} is not in {path.relative_to(ROOT)}")
                    continue
                if lang == "en":
                    continue
                strings = entry.string if isinstance(entry.string, tuple) else (entry.string,)
                if entry.fuzzy or not all(strings):
                    out.append(f"{where}: {message.msgid!r} has no French translation")
                    continue
                sources_ = [message.msgid] + ([message.plural] if message.plural else [])
                wanted = placeholders(sources_[-1])
                for string in strings:
                    if placeholders(string) != wanted and placeholders(string) != placeholders(sources_[0]):
                        out.append(
                            f"{where}: the French of {message.msgid!r} has other placeholders: {string!r}"
                        )
            for entry in catalog:
                if entry.id and (entry.id[0] if isinstance(entry.id, tuple) else entry.id) not in ids:
                    out.append(f"{path.relative_to(ROOT)}: {entry.id!r} is used nowhere (run update)")
    return out


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "check"
    if command == "update":
        update()
        return 0
    if command == "check":
        found = problems()
        for line in found:
            print(line)
        print(f"{len(found)} problem(s)")
        return 1 if found else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

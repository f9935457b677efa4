"""The README's CLI reference names every flag and every slash command exactly as the code has them."""

from __future__ import annotations

import re

from cli.app import build_parser
from cli.commands import commands
from tests.cli.conftest import REPO


def _cli_section() -> str:
    text = (REPO / "README.md").read_text("utf-8")
    start = text.index("## The CLI\n")
    return text[start : text.index("\n## ", start + 1)]


def test_the_issue_commands_all_exist() -> None:
    names = {c.name for c in commands()}
    wanted = [
        "help",
        "models",
        "model",
        "show",
        "pull",
        "rm",
        "ps",
        "unload",
        "new",
        "sessions",
        "load",
        "rename",
        "delete",
        "search",
        "copy",
        "code",
        "system",
        "set",
        "image",
        "file",
        "regen",
        "versions",
        "stats",
        "dev",
        "profile",
        "export",
        "import",
        "lang",
        "quit",
    ]
    assert names == set(wanted)


def test_readme_lists_every_command_with_its_usage_and_aliases() -> None:
    section = _cli_section()
    for cmd in commands():
        assert f"`{cmd.usage.replace('|', chr(92) + '|')}`" in section, cmd.usage
        for alias in cmd.aliases:
            assert f"`/{alias}`" in section, alias


def test_readme_lists_every_flag() -> None:
    section = _cli_section()
    options = [o for a in build_parser()._actions for o in a.option_strings]
    assert "--json" in options and "--no-embedded" in options
    for option in options:
        assert re.search(rf"`{re.escape(option)}[` ]", section), option


def test_readme_lists_every_set_key() -> None:
    from cli.set_values import SETTABLE

    row = next(line for line in _cli_section().splitlines() if line.startswith("| `/set KEY VALUE`"))
    for key in SETTABLE:
        assert f"`{key}`" in row, key

"""argparse in the interface's language: its own words ("usage:", "options", its error messages) and ``--lang``.

argparse words its help and errors through ``gettext`` with no catalog of ours; ``translate_argparse()``
makes it look them up in IA_V3's catalogs instead (the messages below are the ones a person can see from
our parsers, marked so the catalogs hold them). ``language_from_argv()`` reads ``--lang`` before the parser
is built, so ``--help`` and the usage errors are already in that language.
"""

from __future__ import annotations

import argparse

from core.i18n import N_, _, ngettext

__all__ = ["LANG_CHOICES", "HelpFormatter", "language_from_argv", "option_from_argv", "translate_argparse"]

LANG_CHOICES = ("auto", "en", "fr")

# argparse's messages (Python 3.11 to 3.13) that our command lines can show; argparse asks for them itself.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("%(prog)s: error: %(message)s\n"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("invalid %(type)s value: %(value)r"),
    N_("expected one argument"),
    N_("expected at most one argument"),
    N_("expected at least one argument"),
    N_("not allowed with argument %s"),
    N_("one of the arguments %s is required"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("ignored explicit argument %r"),
)


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's formatter (description and epilog kept as written) with section titles punctuated as the
    language does it: "options:" in English, "options :" in French (argparse adds a bare colon itself; a
    space a catalog puts after the title for the same purpose is not doubled)."""

    def start_section(self, heading: str | None) -> None:
        if heading:
            titled = _("{heading}:").format(heading=heading.rstrip())
            heading = titled[:-1] if titled.endswith(":") else titled
        super().start_section(heading)


def translate_argparse() -> None:
    """Make argparse word its help and errors in the interface's language (at each call: a change of
    language applies to the next parser and message)."""
    argparse._ = _  # type: ignore[attr-defined]  # argparse looks its `_` up at each message
    argparse.ngettext = _ngettext  # type: ignore[attr-defined]


def _ngettext(singular: str, plural: str, n: int) -> str:
    if singular == "expected %s argument":  # i18n: argparse's msgid (-o KEY VALUE given one word)
        return ngettext("expected %s argument", "expected %s arguments", n)
    return ngettext(singular, plural, n)


def option_from_argv(argv: list[str], option: str) -> str | None:
    """The value of a long ``option`` (``--lang fr``, ``--lang=fr``, or a prefix argparse would take, such
    as ``--lan fr``) read from the raw arguments, the last one winning; None when it is not there."""
    found: str | None = None
    for n, arg in enumerate(argv):
        if arg == "--":
            break
        name, eq, value = arg.partition("=")
        if len(name) < 3 or not name.startswith("--") or not option.startswith(name):
            continue
        if eq:
            found = value
        elif n + 1 < len(argv):
            found = argv[n + 1]
    return found


def language_from_argv(argv: list[str]) -> str | None:
    """``--lang``'s value when it is one of ours (a wrong one is left to the parser to refuse)."""
    value = option_from_argv(argv, "--lang")
    return value.strip().lower() if value and value.strip().lower() in LANG_CHOICES else None

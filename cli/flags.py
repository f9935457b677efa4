"""What the one-shot flags take: ``-o KEY VALUE`` options, ``-a`` images, ``--think[=LEVEL]``, and the
conversation ``-c`` continues.

Named as ``ollama run`` and ``llm`` name them. ``--keepalive``, ``--think`` and ``--format`` take the values
``/set`` takes (cli.set_values); ``-o`` takes any option of Ollama's API, typed as Ollama types it, and
refuses an unknown key as ``ollama run``'s ``/set parameter`` does (a typo would otherwise be ignored by the
server without a word).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from core.i18n import N_, _

# cli.set_values (and json, difflib, PIL) are imported where used: main.py imports this module on every start.

__all__ = [
    "IMAGE_SUFFIXES",
    "OPTION_TYPES",
    "check_image",
    "latest_session",
    "normalise_argv",
    "parse_options",
    "session_by_name",
]

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp")

# The options of Ollama's API (api/types.go Options and Runner), with those ollama-python's Options still
# lists for older servers (mirostat, tfs_z, penalize_newline, numa, ...).
_FLOATS = (  # i18n: Ollama's option names
    "temperature top_p min_p typical_p repeat_penalty presence_penalty frequency_penalty tfs_z mirostat_tau "
    "mirostat_eta"
)
_INTS = (  # i18n: Ollama's option names
    "seed num_predict num_ctx top_k num_keep repeat_last_n num_batch num_gpu main_gpu num_thread mirostat "
    "draft_num_predict"
)
_BOOLS = (  # i18n: Ollama's option names
    "use_mmap use_mlock numa low_vram f16_kv vocab_only logits_all embedding_only penalize_newline"
)
OPTION_TYPES: dict[str, str] = {
    **dict.fromkeys(_FLOATS.split(), "float"),
    **dict.fromkeys(_INTS.split(), "int"),
    **dict.fromkeys(_BOOLS.split(), "bool"),
    "stop": "strings",
}
_TRUE = ("true", "t", "1", "yes", "on")
_FALSE = ("false", "f", "0", "no", "off")
_TAKES = {
    "float": N_("a number"),
    "int": N_("a whole number"),
    "bool": N_("true or false"),
    "strings": N_("a string, or a JSON list of strings like {example}"),
}
_STRINGS_EXAMPLE = '\'["\\n\\n", "User:"]\''


def _takes(kind: str) -> str:
    return _(_TAKES[kind]).format(example=_STRINGS_EXAMPLE)


def _option_value(key: str, raw: str) -> Any:
    """One -o value, typed for its key; SetValueError says what the key takes."""
    import json
    import math

    from cli.set_values import SETTABLE, SetValueError

    settable = SETTABLE.get(key)
    if settable is not None and settable.kind == "option":
        return settable.parse(raw)  # the ranges /set checks (temperature 0-2, num_ctx >= 256, ...)
    kind = OPTION_TYPES[key]
    text = raw.strip()
    if kind == "strings":
        if not text.startswith("["):
            return [raw]
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SetValueError(
                _("{key} takes {takes}; that list is not valid JSON ({reason}: column {column}).").format(
                    key=key, takes=_takes(kind), reason=exc.msg, column=exc.colno
                )
            ) from None
        if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
            raise SetValueError(
                _("{key} takes {takes}; not {value}.").format(key=key, takes=_takes(kind), value=text)
            )
        return value
    try:
        if kind == "int":
            return int(text)
        if kind == "float":
            number = float(text)
            if math.isfinite(number):
                return number
        elif text.lower() in _TRUE + _FALSE:
            return text.lower() in _TRUE
    except ValueError:
        pass
    raise SetValueError(
        _("{key} takes {takes}; not '{value}'.").format(key=key, takes=_takes(kind), value=raw)
    )


def parse_options(pairs: Iterable[tuple[str, str]]) -> dict[str, Any]:
    """The ``-o KEY VALUE`` pairs as request options; a repeated key wins, except ``stop``, which adds up.

    Raises SetValueError (with the message to show) for an unknown key or a value of the wrong type."""
    options: dict[str, Any] = {}
    for raw_key, raw in pairs:
        key = raw_key.strip().lower()
        if key not in OPTION_TYPES:
            import difflib

            from cli.set_values import SetValueError

            close = difflib.get_close_matches(key, list(OPTION_TYPES), n=1)
            message = (
                _("Unknown option '{key}'. Did you mean {close}? Options: {keys}.")
                if close
                else _("Unknown option '{key}'. Options: {keys}.")
            )
            raise SetValueError(
                message.format(
                    key=raw_key, close=close[0] if close else "", keys=", ".join(sorted(OPTION_TYPES))
                )
            )
        value = _option_value(key, raw)
        if key == "stop" and key in options:
            options[key] = [*options[key], *value]
        else:
            options[key] = value
    return options


def check_image(raw: str) -> Path:
    """The image file at ``raw`` (absolute), or SetValueError: missing, not an image type, or unreadable."""
    from cli.set_values import SetValueError

    path = Path(raw.strip().strip("'\"")).expanduser()
    if not path.is_file():
        raise SetValueError(_("No file at {path}.").format(path=path))
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        raise SetValueError(
            _("{name} is not an image ({suffixes}).").format(
                name=path.name, suffixes=", ".join(IMAGE_SUFFIXES)
            )
        )
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as img:
            img.verify()
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        raise SetValueError(
            _("{name} cannot be read as an image ({reason}).").format(name=path.name, reason=exc)
        ) from None
    return path.resolve()


def normalise_argv(argv: list[str]) -> list[str]:
    """A bare ``--think`` becomes ``--think=on``: the flag takes an optional level (``--think=high``) as
    ``ollama run``'s does, and argparse would otherwise take the prompt after it for that level."""
    out: list[str] = []
    for n, arg in enumerate(argv):
        if arg == "--":
            return out + argv[n:]
        # argparse also accepts an unambiguous prefix of a long flag (--thi, --thin)
        out.append("--think=on" if len(arg) >= 4 and "--think".startswith(arg) else arg)
    return out


def _sessions_newest_first(sav_dir: Path) -> list[str]:
    """The session folders holding a conversation.md, the one written last first; reads no file."""
    from core.search_index import CONVERSATION_FILE
    from core.slugs import is_folder_name

    found: list[tuple[int, str]] = []
    try:
        entries = list(os.scandir(sav_dir))
    except OSError:  # no sav/ yet (or unreadable: loading a session would say so)
        return []
    for entry in entries:
        if not is_folder_name(entry.name):
            continue
        try:
            found.append((os.stat(os.path.join(entry.path, CONVERSATION_FILE)).st_mtime_ns, entry.name))
        except OSError:
            continue
    return [name for _mtime, name in sorted(found, reverse=True)]


def latest_session(sav_dir: Path) -> str | None:
    """The slug of the conversation saved last (the newest ``conversation.md``), or None when there is none.

    Found from the files themselves, so ``-c`` with ``-n`` writes nothing (not even the search index, which
    is rebuilt from these files)."""
    newest = _sessions_newest_first(sav_dir)
    return newest[0] if newest else None


def session_by_name(sav_dir: Path, name: str) -> str | None:
    """The slug of the session named ``name`` (its slug, else its title, the newest of that title) found
    without the search index, for ``--session NAME -n``; None when there is none."""
    from core.errors import StorageError
    from core.sav_manager import read_conversation
    from core.search_index import CONVERSATION_FILE
    from core.session_manager import clean_title

    names = _sessions_newest_first(sav_dir)
    if name in names:
        return name
    wanted = {name, clean_title(name)}
    for slug in names:
        try:
            if read_conversation(sav_dir / slug / CONVERSATION_FILE).title in wanted:
                return slug
        except StorageError:  # a damaged file is not the one asked for by title
            continue
    return None

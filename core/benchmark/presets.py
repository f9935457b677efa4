"""Benchmark presets: `ollama_configs/<name>_tests/` holds a Modelfile, a README and a preset (TOML or JSON).

A preset names the model to benchmark, the prompting style, the suite and the Ollama options; the
per-model scripts in `tools/` are thin wrappers that load one and hand it to the runner. When the model is
missing, the preset's Modelfile says how to create it (`/api/create` with from/system/parameters).

Where presets are found: `IA_HOME/ollama_configs/` first (the user's own presets, and the copies
`tools/update_system_prompt.py modelfile` edits), then the ones shipped with IA_V3 (`CONFIGS_DIR`: the
checkout's `ollama_configs/`, or package data once installed). In a checkout whose IA_HOME is the checkout,
both are the same folder. A shipped preset inside an installed package is never written: `editable_dir`
copies it into IA_HOME first.
"""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from core.errors import ConfigError
from core.fileio import temp_name
from core.i18n import _
from core.locations import is_source_checkout, shipped

__all__ = [
    "CONFIGS_DIR",
    "Modelfile",
    "Preset",
    "editable_dir",
    "list_presets",
    "load_preset",
    "parse_modelfile",
    "preset_dirs",
    "set_modelfile_system",
]

# The presets shipped with IA_V3: the checkout's ollama_configs/, or the wheel's copy inside this package.
CONFIGS_DIR = shipped("ollama_configs", Path(__file__).resolve().with_name("ollama_configs"))
_STYLES = ("chat", "complete")
_SUITES = ("ia_basic", "humaneval", "multimodal")


@dataclass
class Modelfile:
    """The parts of a Modelfile that `/api/create` accepts as JSON fields."""

    from_: str
    system: str | None = None
    template: str | None = None
    parameters: dict[str, Any] = field(default_factory=dict)


@dataclass
class Preset:
    """One benchmark configuration; `directory` is its `ollama_configs/<name>_tests/` folder."""

    name: str
    model: str
    style: str = "chat"
    suite: str = "ia_basic"
    n: int = 1
    options: dict[str, Any] = field(default_factory=dict)
    limit: int | None = None
    description: str = ""
    directory: Path | None = None

    @property
    def modelfile_path(self) -> Path | None:
        if self.directory is None:
            return None
        path = self.directory / "Modelfile"
        return path if path.exists() else None


def _preset_file(directory: Path) -> Path:
    for candidate in ("preset.toml", "preset.json"):
        if (directory / candidate).exists():
            return directory / candidate
    raise ConfigError(str(directory), _("no preset.toml or preset.json in this folder"))


def preset_dirs(configs_dir: Path | None = None, home: Path | None = None) -> list[Path]:
    """Folders searched for presets, first match wins: ``configs_dir`` alone when given, else
    ``home/ollama_configs`` (when ``home`` is given) then the shipped CONFIGS_DIR."""
    if configs_dir is not None:
        return [configs_dir]
    dirs = [home / "ollama_configs"] if home is not None else []
    if not any(d.resolve() == CONFIGS_DIR.resolve() for d in dirs):
        dirs.append(CONFIGS_DIR)
    return dirs


def _find(name: str, dirs: list[Path]) -> Path:
    for base in dirs:
        for candidate in (base / name, base / f"{name}_tests"):
            if candidate.is_dir():
                return candidate
    return dirs[-1] / f"{name}_tests"


def load_preset(
    name_or_dir: str | Path, configs_dir: Path | None = None, *, home: Path | None = None
) -> Preset:
    """Load a preset by folder (`mistral_tests`), short name (`mistral`) or path, from ``preset_dirs``;
    ConfigError when invalid."""
    path = Path(name_or_dir)
    if not path.is_dir():
        path = _find(str(name_or_dir), preset_dirs(configs_dir, home))
    if not path.is_dir():
        raise ConfigError(str(path), _("preset folder not found"))
    file = _preset_file(path)
    try:
        if file.suffix == ".toml":
            data = tomllib.loads(file.read_text(encoding="utf-8"))
        else:
            data = json.loads(file.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(str(file), _("cannot be parsed: {error}").format(error=exc)) from exc
    return _build(path, file, data)


def _build(directory: Path, file: Path, data: dict[str, Any]) -> Preset:
    model = data.get("model")
    if not isinstance(model, str) or not model:
        raise ConfigError(str(file), _("'model' must be a non-empty string"))
    style = data.get("style", "chat")
    if style not in _STYLES:
        raise ConfigError(
            str(file),
            _("'style' must be one of {choices}, not {value}").format(
                choices=", ".join(_STYLES), value=repr(style)
            ),
        )
    suite = data.get("suite", "ia_basic")
    if suite not in _SUITES and not (directory / suite).exists():
        raise ConfigError(
            str(file),
            _("'suite' must be one of {choices} or a problems file").format(choices=", ".join(_SUITES)),
        )
    if suite not in _SUITES:
        suite = str(directory / suite)
    options = data.get("options", {})
    if not isinstance(options, dict):
        raise ConfigError(str(file), _("'options' must be a table of Ollama options"))
    n = data.get("n", 1)
    if not isinstance(n, int) or n < 1:
        raise ConfigError(str(file), _("'n' must be a positive integer"))
    limit = data.get("limit")
    if limit is not None and (not isinstance(limit, int) or limit < 1):
        raise ConfigError(str(file), _("'limit' must be a positive integer"))
    name = directory.name.removesuffix("_tests")
    return Preset(
        name=name,
        model=model,
        style=style,
        suite=suite,
        n=n,
        options=dict(options),
        limit=limit,
        description=str(data.get("description", "")),
        directory=directory,
    )


def list_presets(configs_dir: Path | None = None, *, home: Path | None = None) -> list[Preset]:
    """Every valid preset in ``preset_dirs`` (the user's copy of a preset hides the shipped one), by name."""
    found: dict[str, Preset] = {}
    for base in preset_dirs(configs_dir, home):
        for directory in sorted(base.glob("*_tests")):
            try:
                preset = load_preset(directory)
            except ConfigError:
                continue
            found.setdefault(preset.name, preset)
    return sorted(found.values(), key=lambda preset: preset.name)


def editable_dir(directory: Path, home: Path) -> Path:
    """The folder to edit for the preset in ``directory``: itself, except a preset shipped inside an installed
    package (IA_V3 never writes there), which is first copied to ``home/ollama_configs/`` (kept if there)."""
    if is_source_checkout() or not directory.resolve().is_relative_to(CONFIGS_DIR.resolve()):
        return directory
    target = home / "ollama_configs" / directory.name
    if target.is_dir():
        return target
    partial = temp_name(target)  # copied whole, then renamed: never half a preset under its real name
    try:
        shutil.copytree(directory, partial)
        partial.replace(target)
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        raise ConfigError(
            target, _("cannot copy the preset here to edit it ({error})").format(error=exc.strerror or exc)
        ) from exc
    return target


_TRIPLE = re.compile(r'^(\w+)\s+"""(.*?)"""\s*$', re.S | re.M)


def _value(raw: str) -> Any:
    raw = raw.strip()
    if raw.startswith('"') and raw.endswith('"') and len(raw) >= 2:
        return json.loads(raw) if "\\" in raw else raw[1:-1]
    for cast in (int, float):
        try:
            return cast(raw)
        except ValueError:
            pass
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    return raw


def parse_modelfile(text: str, source: str = "Modelfile") -> Modelfile:
    """Read FROM, SYSTEM, TEMPLATE and PARAMETER lines (triple-quoted values allowed); ConfigError if no FROM."""
    fields: dict[str, str] = {}
    for match in _TRIPLE.finditer(text):
        fields[match.group(1).upper()] = match.group(2).strip("\n")
    rest = _TRIPLE.sub("", text)
    params: dict[str, Any] = {}
    for line in rest.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _sep, arg = line.partition(" ")
        word = word.upper()
        if word == "PARAMETER":
            key, _sep, raw = arg.strip().partition(" ")
            value = _value(raw)
            if key == "stop":
                params.setdefault("stop", []).append(value)
            else:
                params[key] = value
        elif word in ("FROM", "SYSTEM", "TEMPLATE"):
            fields[word] = str(_value(arg)) if word != "FROM" else arg.strip()
    if not fields.get("FROM"):
        raise ConfigError(source, _("the Modelfile has no FROM line"))
    return Modelfile(
        from_=fields["FROM"],
        system=fields.get("SYSTEM"),
        template=fields.get("TEMPLATE"),
        parameters=params,
    )


def set_modelfile_system(text: str, system: str) -> str:
    """Return the Modelfile text with its SYSTEM instruction replaced (or added after FROM)."""
    if '"""' in system:
        raise ConfigError("SYSTEM", _('the system prompt cannot contain three double quotes (""")'))
    block = f'SYSTEM """{system}"""' if "\n" in system or '"' in system else f'SYSTEM "{system}"'
    without = _TRIPLE.sub(lambda m: "" if m.group(1).upper() == "SYSTEM" else m.group(0), text)
    lines = [ln for ln in without.splitlines() if not ln.strip().upper().startswith("SYSTEM ")]
    out: list[str] = []
    inserted = False
    for line in lines:
        out.append(line)
        if not inserted and line.strip().upper().startswith("FROM "):
            out.append(block)
            inserted = True
    if not inserted:
        out.insert(0, block)
    return "\n".join(out).rstrip("\n") + "\n"

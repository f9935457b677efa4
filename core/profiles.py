"""Named profiles (model, system prompt, options) stored as ``IA_HOME/profiles/<name>.toml``, and the default
profile of each model (``IA_HOME/profiles/_defaults.toml``, a ``[models]`` table of model name = profile name:
the desktop app applies it when that model is picked). ``_defaults`` can never be a profile's name (a name
starts with a letter or a digit), so the file never lists as a profile."""

from __future__ import annotations

import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import tomli_w

from core.errors import ConfigError
from core.fileio import atomic_write
from core.i18n import _
from core.slugs import is_safe_slug

if TYPE_CHECKING:
    from config import Settings

__all__ = [
    "DEFAULTS_FILE",
    "Profile",
    "ProfileEntry",
    "default_profile",
    "delete_profile",
    "list_profiles",
    "load_profile",
    "model_defaults",
    "profile_exists",
    "profile_path",
    "save_profile",
    "scan_profiles",
    "set_default_profile",
]

log = logging.getLogger("ia.profiles")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_KEYS = {"model": str, "system_prompt": str, "options": dict}
DEFAULTS_FILE = "_defaults.toml"  # model name -> its default profile's name


@dataclass
class Profile:
    """A reusable chat setup; the name is the file name."""

    name: str
    model: str = ""
    system_prompt: str = ""
    options: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class ProfileEntry:
    """One file of the profiles folder: its profile, or why it cannot be used (``error``, the ConfigError's
    message; ``profile`` is then None)."""

    name: str
    profile: Profile | None
    error: str = ""


def profile_path(settings: Settings, name: str) -> Path:
    """Where profile ``name`` lives; ConfigError for a name that cannot be a file name everywhere."""
    if not _NAME.fullmatch(name) or not is_safe_slug(name) or name.endswith("."):
        raise ConfigError(
            _("profile '{name}'").format(name=name),
            _("a profile name uses letters, digits, '-', '_' or '.' (at most 64, no device names)"),
        )
    return settings.profiles_dir / f"{name}.toml"


def _read(path: Path, name: str) -> Profile:
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))  # BOM: Windows editors
    except FileNotFoundError:
        raise ConfigError(path, _("there is no profile named '{name}'").format(name=name)) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, _("not valid TOML ({error})").format(error=exc)) from exc
    except UnicodeDecodeError:
        raise ConfigError(path, _("not UTF-8 text")) from None
    except OSError as exc:
        raise ConfigError(path, _("cannot be read ({error})").format(error=exc.strerror or exc)) from exc
    for key, value in data.items():
        if key not in _KEYS:
            raise ConfigError(
                path, _("unknown key '{key}' (use {choices})").format(key=key, choices=", ".join(_KEYS))
            )
        if not isinstance(value, _KEYS[key]):
            kind = _("'{key}' must be a table") if _KEYS[key] is dict else _("'{key}' must be a string")
            raise ConfigError(path, kind.format(key=key))
    return Profile(name=name, **data)


def load_profile(settings: Settings, name: str) -> Profile:
    """The profile ``name``; ConfigError says what is wrong with a missing or bad file."""
    return _read(profile_path(settings, name), name)


def profile_exists(settings: Settings, name: str) -> bool:
    """Whether a file for profile ``name`` is there (readable or not); ConfigError for a bad name."""
    return profile_path(settings, name).is_file()


def _profile_files(settings: Settings) -> list[Path]:
    return [p for p in sorted(settings.profiles_dir.glob("*.toml")) if p.name != DEFAULTS_FILE]


def list_profiles(settings: Settings) -> list[Profile]:
    """Every readable profile by name; a bad file is skipped with a warning (load_profile reports it)."""
    profiles = []
    for path in _profile_files(settings):
        try:
            profiles.append(load_profile(settings, path.stem))
        except ConfigError as exc:
            log.warning("%s", exc)
    return profiles


def scan_profiles(settings: Settings) -> list[ProfileEntry]:
    """Every file of the profiles folder by name, a bad one with its error instead of its profile (the app
    lists it so that a person sees what is wrong, and cannot apply it)."""
    entries = []
    for path in _profile_files(settings):
        try:
            entries.append(ProfileEntry(path.stem, load_profile(settings, path.stem)))
        except ConfigError as exc:
            entries.append(ProfileEntry(path.stem, None, str(exc)))
    return entries


def save_profile(settings: Settings, profile: Profile) -> Path:
    """Write the profile atomically; ConfigError for a bad name or options TOML cannot hold (e.g. None)."""
    path = profile_path(settings, profile.name)
    data = {"model": profile.model, "system_prompt": profile.system_prompt, "options": profile.options}
    try:
        text = tomli_w.dumps(data)
    except (TypeError, ValueError) as exc:
        raise ConfigError(path, _("options cannot be saved as TOML ({error})").format(error=exc)) from exc
    atomic_write(path, text.encode("utf-8"))
    return path


def delete_profile(settings: Settings, name: str) -> None:
    """Remove profile ``name``, and make it no model's default any more; ConfigError when there is none."""
    path = profile_path(settings, name)
    try:
        path.unlink()
    except FileNotFoundError:
        raise ConfigError(path, _("there is no profile named '{name}'").format(name=name)) from None
    try:
        defaults = model_defaults(settings)
    except ConfigError as exc:  # a damaged defaults file is left as it is, for the person to mend
        log.warning("%s", exc)
        return
    if name in defaults.values():
        _write_defaults(settings, {m: p for m, p in defaults.items() if p != name})


# -- the default profile of each model ----------------------------------------------------------------------
def _defaults_path(settings: Settings) -> Path:
    return settings.profiles_dir / DEFAULTS_FILE


def model_defaults(settings: Settings) -> dict[str, str]:
    """Model name -> the name of the profile applied when that model is picked; {} when none is set.
    ConfigError for a damaged file (it is then never rewritten: set_default_profile refuses too)."""
    path = _defaults_path(settings)
    try:
        data = tomllib.loads(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, _("not valid TOML ({error})").format(error=exc)) from exc
    except UnicodeDecodeError:
        raise ConfigError(path, _("not UTF-8 text")) from None
    except OSError as exc:
        raise ConfigError(path, _("cannot be read ({error})").format(error=exc.strerror or exc)) from exc
    models = data.get("models", {})
    if set(data) - {"models"} or not isinstance(models, dict):
        raise ConfigError(path, _("it must hold one [models] table of model = profile names"))
    bad = [model for model, name in models.items() if not isinstance(name, str)]
    if bad:
        raise ConfigError(path, _("the default profile of '{model}' must be a name").format(model=bad[0]))
    return dict(models)


def default_profile(settings: Settings, model: str) -> str:
    """The name of model ``model``'s default profile, "" when it has none; ConfigError for a damaged file."""
    return model_defaults(settings).get(model, "") if model else ""


def set_default_profile(settings: Settings, model: str, name: str) -> None:
    """Make profile ``name`` model ``model``'s default ("" = no default any more). ConfigError for a bad profile
    name, an empty model name, or a damaged defaults file (left untouched)."""
    if not model:
        raise ConfigError(_defaults_path(settings), _("a default profile needs a model"))
    if name:
        profile_path(settings, name)  # a name that cannot be a profile's: ConfigError
    defaults = model_defaults(settings)
    if name:
        defaults[model] = name
    else:
        defaults.pop(model, None)
    _write_defaults(settings, defaults)


def _write_defaults(settings: Settings, defaults: dict[str, str]) -> None:
    path = _defaults_path(settings)
    header = "# The profile the desktop app applies when a model is picked: model name = profile name.\n"
    atomic_write(path, (header + tomli_w.dumps({"models": dict(sorted(defaults.items()))})).encode("utf-8"))

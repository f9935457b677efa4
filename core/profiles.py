"""Named profiles (model, system prompt, options) stored as ``IA_HOME/profiles/<name>.toml``."""

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

__all__ = ["Profile", "delete_profile", "list_profiles", "load_profile", "profile_path", "save_profile"]

log = logging.getLogger("ia.profiles")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")
_KEYS = {"model": str, "system_prompt": str, "options": dict}


@dataclass
class Profile:
    """A reusable chat setup; the name is the file name."""

    name: str
    model: str = ""
    system_prompt: str = ""
    options: dict[str, Any] = field(default_factory=dict)


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


def list_profiles(settings: Settings) -> list[Profile]:
    """Every readable profile by name; a bad file is skipped with a warning (load_profile reports it)."""
    profiles = []
    for path in sorted(settings.profiles_dir.glob("*.toml")):
        try:
            profiles.append(load_profile(settings, path.stem))
        except ConfigError as exc:
            log.warning("%s", exc)
    return profiles


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
    """Remove profile ``name``; ConfigError when there is none."""
    path = profile_path(settings, name)
    try:
        path.unlink()
    except FileNotFoundError:
        raise ConfigError(path, _("there is no profile named '{name}'").format(name=name)) from None

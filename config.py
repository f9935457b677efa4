"""Settings of IA_V3, resolved as defaults < IA_HOME/config.toml < environment < command-line flags.

IA_HOME, the folder holding every file IA_V3 writes, is ``--home``, else the ``IA_HOME`` environment variable,
else core.locations.default_home(): the checkout itself when run from source, the user's data folder
(``~/.local/share/ia-v3`` on Linux) when installed from a wheel.
"""

from __future__ import annotations

import ipaddress
import os
import tomllib
import urllib.parse
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from core.errors import ConfigError
from core.fileio import atomic_write
from core.i18n import N_, _
from core.locations import PROJECT_ROOT, default_home

__all__ = [
    "DEFAULT_HOST",
    "EMBEDDED_DEFAULT_MODEL",
    "PROJECT_ROOT",
    "Settings",
    "default_home",
    "load_settings",
    "parse_host",
    "save_settings",
]

DEFAULT_HOST = "http://127.0.0.1:11434"
EMBEDDED_DEFAULT_MODEL = "smollm2:135m"
EMBEDDED_MODES = ("auto", "force", "off")


@dataclass
class Settings:
    """Every setting the app, CLI and benchmark read; paths under ``home`` are derived."""

    home: Path = field(default_factory=default_home)
    ollama_host: str = DEFAULT_HOST
    embedded: str = "auto"
    model: str = ""
    fallback_models: list[str] = field(default_factory=list)
    system_prompt: str = ""
    options: dict[str, Any] = field(default_factory=dict)
    context_exchanges: int = 5
    keep_alive: str | int | None = None
    think: bool | str | None = None
    dev_mode: bool = False
    theme: str = "light"
    language: str = "auto"  # the interface's: auto (the system locale's), en or fr; core.i18n applies it
    connect_timeout: float = 3.0
    first_token_timeout: float = 600.0
    stall_timeout: float = 120.0
    save_throttle_s: float = 0.5
    ui: dict[str, Any] = field(default_factory=dict)

    @property
    def sav_dir(self) -> Path:
        return self.home / "sav"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    @property
    def profiles_dir(self) -> Path:
        return self.home / "profiles"

    @property
    def config_path(self) -> Path:
        return self.home / "config.toml"


# Expected types per field, for values read from config.toml, the environment or flags.
_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "ollama_host": (str,),
    "embedded": (str,),
    "model": (str,),
    "fallback_models": (list,),
    "system_prompt": (str,),
    "options": (dict,),
    "context_exchanges": (int,),
    "keep_alive": (str, int),
    "think": (bool, str),
    "dev_mode": (bool,),
    "theme": (str,),
    "language": (str,),
    "connect_timeout": (int, float),
    "first_token_timeout": (int, float),
    "stall_timeout": (int, float),
    "save_throttle_s": (int, float),
    "ui": (dict,),
}


def parse_host(host: str | None) -> str:
    """Normalise a host the way ollama-python does (scheme, default port 11434/80/443, IPv6, path).

    An OpenAI-compatible server is named by a URL whose path ends in /v1, or by ``openai:URL``: the prefix
    is dropped when the URL, with /v1 added to an empty path, says it by itself ("openai:localhost:8080" ->
    "http://localhost:8080/v1"), and kept before any other path ("openai:https://host:443/v1beta/openai").
    """
    text = (host or "").strip()
    if text[:7].lower() == "openai:":
        url = _parse_url(text[7:])
        _host, _sep, path = url.partition("://")[2].partition("/")
        if not path:
            return f"{url}/v1"
        return url if path.rsplit("/", 1)[-1] == "v1" else f"openai:{url}"
    return _parse_url(host)


def _parse_url(host: str | None) -> str:
    host, port = host or "", 11434
    scheme, _sep, hostport = host.partition("://")
    if not hostport:
        scheme, hostport = "http", host
    elif scheme == "http":
        port = 80
    elif scheme == "https":
        port = 443
    split = urllib.parse.urlsplit(f"{scheme}://{hostport}")
    name = split.hostname or "127.0.0.1"
    port = split.port or port
    try:
        if isinstance(ipaddress.ip_address(name), ipaddress.IPv6Address):
            name = f"[{name}]"
    except ValueError:
        pass
    if path := split.path.strip("/"):
        return f"{scheme}://{name}:{port}/{path}"
    return f"{scheme}://{name}:{port}"


def _read_toml(path: Path) -> dict[str, Any]:
    """The TOML file at ``path`` ({} when missing); a BOM left by a Windows editor is allowed."""
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8").removeprefix("\ufeff"))
    except FileNotFoundError:
        return {}
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(path, _("not valid TOML ({error})").format(error=exc)) from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(path, _("not UTF-8 text")) from exc
    except OSError as exc:
        raise ConfigError(path, _("cannot be read ({error})").format(error=exc.strerror or exc)) from exc


# Where a value came from when it is not a file, named in the interface's language when it is refused.
_ENVIRONMENT, _COMMAND_LINE, _DEFAULTS = N_("the environment"), N_("the command line"), N_("the defaults")


def _refused(where: str | Path, reason: str) -> ConfigError:
    """The ConfigError for a wrong value from ``where`` (a file, or one of the layers above)."""
    named = _(where) if where in (_ENVIRONMENT, _COMMAND_LINE, _DEFAULTS) else where
    return ConfigError(named, reason)


def _check(key: str, value: Any, where: str | Path) -> Any:
    if key == "home":
        raise _refused(
            where, _("'home' is where config.toml lives: set IA_HOME in the environment or use --home")
        )
    if key not in _FIELD_TYPES:
        raise _refused(where, _("unknown setting '{key}'").format(key=key))
    if value is None and key in ("keep_alive", "think"):
        return None
    types = _FIELD_TYPES[key]
    # bool is an int in Python: refuse true/false where a number is expected.
    if isinstance(value, bool) and bool not in types:
        wanted = _(" or ").join(t.__name__ for t in types)
        raise _refused(where, _("'{key}' must be {types}, not a boolean").format(key=key, types=wanted))
    if not isinstance(value, types):
        wanted = _(" or ").join(t.__name__ for t in types)
        raise _refused(
            where,
            _("'{key}' must be {types}, not {type}").format(key=key, types=wanted, type=type(value).__name__),
        )
    if key == "embedded" and value not in EMBEDDED_MODES:
        raise _refused(
            where,
            _("'embedded' must be one of {choices}, not '{value}'").format(
                choices=", ".join(EMBEDDED_MODES), value=value
            ),
        )
    if key == "theme" and value not in ("light", "dark"):
        raise _refused(where, _("'theme' must be light or dark, not '{value}'").format(value=value))
    if key == "language" and value not in ("auto", "en", "fr"):
        raise _refused(where, _("'language' must be auto, en or fr, not '{value}'").format(value=value))
    if key == "context_exchanges" and value < 0:
        raise _refused(where, _("'context_exchanges' must be 0 or more"))
    if key == "fallback_models" and not all(isinstance(m, str) for m in value):
        raise _refused(where, _("'fallback_models' must be a list of model names"))
    return value


def _from_env(env: Mapping[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if env.get("OLLAMA_HOST"):
        out["ollama_host"] = env["OLLAMA_HOST"]
    if env.get("IA_MODEL"):
        out["model"] = env["IA_MODEL"]
    if env.get("IA_EMBEDDED"):
        out["embedded"] = env["IA_EMBEDDED"].strip().lower()
    if env.get("IA_LANG"):
        out["language"] = env["IA_LANG"].strip().lower()
    if env.get("IA_DEV"):
        out["dev_mode"] = env["IA_DEV"].strip().lower() in ("1", "true", "yes", "on")
    return out


def load_settings(flags: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Resolve settings: defaults < IA_HOME/config.toml < environment < flags (None flags are ignored)."""
    env = os.environ if env is None else env
    flags = {k: v for k, v in (flags or {}).items() if v is not None}
    home_value = flags.pop("home", None) or env.get("IA_HOME") or default_home()
    home = Path(home_value).expanduser().resolve()
    settings = Settings(home=home)
    path = settings.config_path
    layers: list[tuple[str | Path, dict[str, Any]]] = [
        (path, _read_toml(path)),
        (_ENVIRONMENT, _from_env(env)),
        (_COMMAND_LINE, dict(flags)),
    ]
    host_from: str | Path = _DEFAULTS
    for where, values in layers:
        for key, value in values.items():
            if key in ("options", "ui") and isinstance(value, dict):
                merged = dict(getattr(settings, key))
                merged.update(_check(key, value, where))
                setattr(settings, key, merged)
            else:
                setattr(settings, key, _check(key, value, where))
            if key == "ollama_host":
                host_from = where
    try:
        settings.ollama_host = parse_host(settings.ollama_host)
    except ValueError as exc:  # e.g. "http://[bad": urllib's own complaint says what is wrong
        raise _refused(
            host_from,
            _("'{host}' is not a server address ({error}); write it like 127.0.0.1:11434").format(
                host=settings.ollama_host, error=exc
            ),
        ) from None
    return settings


def save_settings(settings: Settings, keys: Iterable[str]) -> None:
    """Persist the chosen settings into IA_HOME/config.toml atomically, keeping every other line's value."""
    path = settings.config_path
    current = _read_toml(path)  # a broken file raises ConfigError: never overwrite what we cannot read
    for key in keys:
        if key not in _FIELD_TYPES:
            raise ConfigError(path, _("unknown setting '{key}'").format(key=key))
        value = getattr(settings, key)
        if value is None:
            current.pop(key, None)
        else:
            current[key] = value
    atomic_write(path, tomli_w.dumps(_toml_safe(current)))


def _toml_safe(value: Any) -> Any:
    """TOML has no null: drop None values inside tables and lists."""
    if isinstance(value, dict):
        return {str(k): _toml_safe(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_toml_safe(v) for v in value if v is not None]
    if isinstance(value, Path):
        return str(value)
    return value

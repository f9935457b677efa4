"""Where IA_V3's files are: the default data folder (IA_HOME) and the files shipped with the code.

Two ways to run IA_V3, two defaults:

- from a source checkout (``python main.py``, or ``pip install -e .``): the data lives beside the code
  (``sav/``, ``logs/``, ``data/`` in the checkout), as IA_V3 users expect;
- installed from a wheel (``pip install``, ``pipx``, ``uv tool``): the data lives in the user's data folder
  (``platformdirs``: ``~/.local/share/ia-v3`` on Linux, ``~/Library/Application Support/ia-v3`` on macOS,
  ``%LOCALAPPDATA%\\ia-v3`` on Windows), never inside site-packages.

``IA_HOME`` (or ``--home``) overrides both; config.py applies it.

Files shipped with the code (the app's ``assets/`` and the benchmark presets ``ollama_configs/``) sit at the
top of a checkout, where people edit them, and inside the package in a wheel (``ui/assets/``,
``core/benchmark/ollama_configs/``; see pyproject.toml): ``shipped()`` finds the right copy.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["APP_NAME", "PROJECT_ROOT", "default_home", "extra_install_hint", "is_source_checkout", "shipped"]

APP_NAME = "ia-v3"  # the distribution's name, and the data folder's
# The folder holding config.py, core/, ui/ ...: the checkout's root, or site-packages once installed.
PROJECT_ROOT = Path(__file__).resolve().parents[1]


def is_source_checkout() -> bool:
    """True when the code runs from a source checkout (pyproject.toml beside it), editable installs included;
    False for an installed wheel, whose folder is site-packages."""
    return (PROJECT_ROOT / "pyproject.toml").is_file()


def default_home() -> Path:
    """IA_HOME when none is set: the checkout itself, else the user's data folder for IA_V3."""
    if is_source_checkout():
        return PROJECT_ROOT
    import platformdirs  # only when installed: keeps the checkout's start-up free of it

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False, roaming=False))


def shipped(name: str, installed: Path) -> Path:
    """The folder ``name`` shipped with IA_V3: ``PROJECT_ROOT/name`` in a source checkout, else ``installed``
    (where the wheel puts it, inside a package)."""
    return PROJECT_ROOT / name if is_source_checkout() else installed


def extra_install_hint(extra: str) -> str:
    """A sentence (no final stop) saying how to add an optional part (``embedded``, ``dev``) to this copy."""
    from core.i18n import _

    if is_source_checkout():
        return _('Install it with `pip install -e ".[{extra}]"` in {folder}').format(
            extra=extra, folder=PROJECT_ROOT
        )
    return _(
        'Install IA_V3 again with its {extra} extra: `pip install "SOURCE[{extra}]"` (or `pipx install '
        "--force`, `uv tool install`), SOURCE being the wheel or source folder it was installed from"
    ).format(extra=extra)

"""Manage system prompts: the app's profiles (IA_HOME/profiles, via core.profiles) and the benchmark Modelfiles.

python tools/update_system_prompt.py list
python tools/update_system_prompt.py show coder
python tools/update_system_prompt.py set coder "You are a concise Python expert." [--model M]
python tools/update_system_prompt.py set coder --file prompt.txt
python tools/update_system_prompt.py modelfile mistral "New system prompt"     (or --all, or --file)

Modelfiles are looked for in IA_HOME/ollama_configs/ and then in the presets shipped with IA_V3
(core.benchmark.presets.preset_dirs). A shipped preset is edited in place in a source checkout; once IA_V3 is
installed it is copied into IA_HOME/ollama_configs/ and the copy is edited (nothing is written into the
installed package), and the benchmark scripts use that copy from then on.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.console import Console

from core.benchmark.presets import editable_dir, parse_modelfile, preset_dirs, set_modelfile_system
from core.errors import ConfigError, IAError, exit_code
from core.fileio import atomic_write

__all__ = ["main", "update_modelfile"]

console = Console(highlight=False)


def _prompt_text(args: argparse.Namespace) -> str:
    if args.file is not None:
        try:
            text = args.file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ConfigError(args.file, f"cannot be read ({exc.strerror})") from exc
    else:
        text = (args.prompt or "").strip()
    if not text:
        raise ConfigError("system prompt", "it is empty: give the text as an argument or with --file")
    return text


def update_modelfile(path: Path, system: str) -> str:
    """Replace the SYSTEM line of one Modelfile (atomically); returns the previous system prompt or ''."""
    text = path.read_text(encoding="utf-8")
    previous = parse_modelfile(text, str(path)).system or ""
    new_text = set_modelfile_system(text, system)
    parse_modelfile(new_text, str(path))  # never write a Modelfile we could not read back
    atomic_write(path, new_text)
    return previous


def _all_modelfiles(configs: list[Path]) -> list[Path]:
    """Each preset's Modelfile, the first folder holding that preset winning."""
    found: dict[str, Path] = {}
    for base in configs:
        for path in sorted(base.glob("*_tests/Modelfile")):
            found.setdefault(path.parent.name, path)
    return [found[name] for name in sorted(found)]


def _modelfiles(args: argparse.Namespace, configs: list[Path]) -> list[Path]:
    if args.all:
        return _all_modelfiles(configs)
    if not args.preset:
        raise ConfigError("modelfile", "name a preset (e.g. mistral) or use --all")
    for base in configs:
        for candidate in (base / args.preset / "Modelfile", base / f"{args.preset}_tests" / "Modelfile"):
            if candidate.exists():
                return [candidate]
    names = ", ".join(p.parent.name.removesuffix("_tests") for p in _all_modelfiles(configs))
    raise ConfigError(args.preset, f"no such preset Modelfile; known: {names}")


def cmd_list(settings, configs: list[Path]) -> None:
    from core.profiles import list_profiles

    console.print("[bold]Profiles[/bold] " + str(settings.profiles_dir))
    profiles = list_profiles(settings)
    if not profiles:
        console.print('  (none yet: create one with `set NAME "prompt"`)')
    for profile in profiles:
        console.print(
            f"  {profile.name} ({profile.model or 'any model'}): {profile.system_prompt[:80]}", markup=False
        )
    console.print("[bold]Modelfiles[/bold] " + ", ".join(str(base) for base in configs))
    for path in _all_modelfiles(configs):
        system = parse_modelfile(path.read_text(encoding="utf-8"), str(path)).system or ""
        console.print(f"  {path.parent.name.removesuffix('_tests')}: {system[:80]}", markup=False)


def main(argv: list[str] | None = None) -> int:
    from config import load_settings

    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--configs", type=Path, default=None, help=argparse.SUPPRESS)  # this folder only
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="profiles and Modelfiles with their system prompts")
    show = sub.add_parser("show", help="a profile's full system prompt")
    show.add_argument("name")
    st = sub.add_parser("set", help="set a profile's system prompt (creates the profile if needed)")
    st.add_argument("name")
    st.add_argument("prompt", nargs="?")
    st.add_argument("--file", type=Path)
    st.add_argument("--model", help="model of a new profile (kept for an existing one)")
    mf = sub.add_parser("modelfile", help="replace the SYSTEM line of a preset's Modelfile")
    mf.add_argument("preset", nargs="?")
    mf.add_argument("prompt", nargs="?")
    mf.add_argument("--file", type=Path)
    mf.add_argument("--all", action="store_true", help="every ollama_configs/*_tests/Modelfile")
    args = parser.parse_args(argv)
    if args.command == "modelfile" and args.all and args.preset and not args.prompt:
        args.prompt, args.preset = args.preset, None  # `modelfile --all "text"`
    try:
        settings = load_settings({})
        configs = preset_dirs(args.configs, settings.home)
        if args.command == "list":
            cmd_list(settings, configs)
        elif args.command == "show":
            from core.profiles import load_profile

            console.print(load_profile(settings, args.name).system_prompt, markup=False)
        elif args.command == "set":
            from core.profiles import Profile, load_profile, profile_path, save_profile

            text = _prompt_text(args)
            # An existing but unreadable profile raises in load_profile and is left untouched.
            if profile_path(settings, args.name).exists():
                profile = load_profile(settings, args.name)
                profile.system_prompt = text
            else:
                profile = Profile(name=args.name, model=args.model or "", system_prompt=text, options={})
            save_profile(settings, profile)
            console.print(f"Profile '{args.name}' saved in {settings.profiles_dir}.", markup=False)
        else:
            text = _prompt_text(args)
            for found in _modelfiles(args, configs):
                path = found if args.configs else editable_dir(found.parent, settings.home) / found.name
                update_modelfile(path, text)
                console.print(f"Updated SYSTEM in {path}", markup=False)
    except IAError as exc:
        console.print(str(exc), style="red", markup=False)
        return exit_code(exc)
    return 0


if __name__ == "__main__":
    sys.exit(main())

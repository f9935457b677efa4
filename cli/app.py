"""Entry point of the CLI: parse flags, resolve settings, connect to a backend, then one-shot or interactive.

Heavy modules (ollama, rich, prompt_toolkit) are imported only after the flags are parsed, so ``--help`` and
``--version`` are instant and the interactive prompt appears quickly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from config import Settings

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main", "version"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_EPILOG = """\
exit codes: 0 done, 1 a problem on this machine (files, settings), 2 bad usage, 3 server unreachable,
4 model not found, 5 other server error, 130 interrupted. Without a PROMPT on a terminal, an interactive chat starts (type /help there).
Text piped on stdin is added to the prompt: git diff | python main.py "Review this diff"
"""


def version() -> str:
    """The project version: from pyproject.toml in a source checkout (fast), else the installed metadata."""
    import tomllib

    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    try:
        return str(tomllib.loads(pyproject.read_text("utf-8"))["project"]["version"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        pass
    from importlib import metadata

    try:
        return metadata.version("ia-v3")
    except metadata.PackageNotFoundError:
        return "unknown"


def _host(value: str) -> str:
    """--host: refused at once when it cannot be a server address (bad usage, exit 2). An Ollama URL, or an
    OpenAI-compatible server's: a URL whose path ends in /v1, or openai:URL (core.backend.make_client)."""
    from config import parse_host

    try:
        parse_host(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"'{value}' is not a server address ({exc}); write it like 127.0.0.1:11434"
        ) from None
    return value


class _VersionAction(argparse.Action):
    """--version that reads the version only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"IA_V3 {version()}")
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The command-line flags of main.py."""
    p = argparse.ArgumentParser(
        prog="main.py",
        description="Chat with local models served by Ollama or by the embedded llama.cpp backend.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("prompt", nargs="*", help="send this prompt, print the reply and exit (one-shot)")
    p.add_argument(
        "-m",
        "--model",
        help="model to use (default: the session's, IA_MODEL or config.toml's, else smollm2:135m on the "
        "embedded backend or the first installed)",
    )
    p.add_argument("--session", metavar="NAME", help="continue this session (slug or title); created if new")
    p.add_argument("--json", action="store_true", help="one-shot: print one JSON record instead of the text")
    backend = p.add_mutually_exclusive_group()
    backend.add_argument("--embedded", action="store_true", help="use the embedded llama.cpp backend")
    backend.add_argument("--no-embedded", action="store_true", help="never fall back to the embedded backend")
    p.add_argument(
        "--host",
        metavar="URL",
        type=_host,
        help="Ollama server (default: OLLAMA_HOST or 127.0.0.1:11434), or an OpenAI-compatible one: a URL "
        "ending in /v1 (llama-server, LM Studio, vLLM: http://127.0.0.1:8080/v1) or openai:URL; "
        "OPENAI_API_KEY is sent when set",
    )
    p.add_argument("--home", metavar="DIR", help="data folder holding sav/, logs/, data/ (default: IA_HOME)")
    p.add_argument("--profile", metavar="NAME", help="apply a saved profile (model, system prompt, options)")
    p.add_argument("--plain", action="store_true", help="plain text output instead of rendered Markdown")
    p.add_argument("--system", metavar="TEXT", help="system prompt for new conversations")
    p.add_argument("--dev", action="store_true", help="DEV mode: pick the model, show timings, log requests")
    p.add_argument("--version", action=_VersionAction, help="print the version and exit")
    return p


def _read_stdin() -> str:
    """Everything piped on stdin, decoded leniently (a stray byte must not lose the rest)."""
    data = sys.stdin.buffer.read() if hasattr(sys.stdin, "buffer") else sys.stdin.read().encode()
    return data.decode("utf-8", errors="replace")


def _flags(args: argparse.Namespace) -> dict[str, Any]:
    embedded = "force" if args.embedded else "off" if args.no_embedded else None
    return {
        "home": args.home,
        "ollama_host": args.host,
        "model": args.model,
        "system_prompt": args.system,
        "dev_mode": True if args.dev else None,
        "embedded": embedded,
    }


def apply_profile(settings: Settings, name: str, args: argparse.Namespace | None = None) -> str:
    """Load a profile into the settings (explicit -m / --system flags still win); returns its name."""
    from core.errors import IAError
    from core.profiles import list_profiles, load_profile, profile_path

    if not profile_path(settings, name).is_file():
        names = [p.name for p in list_profiles(settings)]
        known = (
            f"saved ones: {', '.join(names)}" if names else f"none is saved in {settings.profiles_dir} yet"
        )
        raise IAError(
            f"There is no profile named '{name}' ({known}); create it with "
            f'python tools/update_system_prompt.py set {name} "SYSTEM PROMPT" --model MODEL.'
        )
    profile = load_profile(settings, name)
    if profile.model and not (args is not None and args.model):
        settings.model = profile.model
    if profile.system_prompt and not (args is not None and args.system):
        settings.system_prompt = profile.system_prompt
    settings.options = {**settings.options, **profile.options}
    return profile.name


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    prompt = " ".join(args.prompt).strip()
    piped = "" if sys.stdin is None or sys.stdin.isatty() else _read_stdin()
    interactive = not prompt and not piped.strip() and sys.stdin is not None and sys.stdin.isatty()
    if not interactive and not prompt and not piped.strip():
        parser.error("nothing to send: give a PROMPT or pipe text on stdin")
    if interactive and args.json:
        parser.error("--json needs a PROMPT (it is for one-shot use)")

    from config import load_settings
    from core.errors import IAError, exit_code

    try:
        settings = load_settings(_flags(args))
    except IAError as exc:
        return _fail(str(exc), exit_code(exc))
    if args.profile:
        try:
            apply_profile(settings, args.profile, args)
        except IAError as exc:  # a profile named on the command line that does not exist: bad usage
            return _fail(str(exc), EXIT_USAGE)
    try:
        return _run(settings, args, prompt, piped, interactive)
    except KeyboardInterrupt:
        return _fail("Interrupted.", EXIT_INTERRUPTED)


def _run(settings: Settings, args: argparse.Namespace, prompt: str, piped: str, interactive: bool) -> int:
    from core.backend import connect
    from core.errors import IAError, exit_code
    from core.logs import setup_technical_log

    log = setup_technical_log(settings)
    try:
        backend = connect(settings)
    except IAError as exc:
        log.warning("no backend: %s", exc)
        return _fail(str(exc), exit_code(exc))
    try:
        if interactive:
            from cli.repl import run_interactive

            return run_interactive(settings, backend, args)
        from cli.oneshot import run_oneshot

        text = f"{prompt}\n\n{piped}" if prompt and piped.strip() else prompt or piped
        return run_oneshot(settings, backend, args, text)
    except IAError as exc:
        return _fail(str(exc), exit_code(exc))
    except Exception as exc:  # a bug: say where the details are instead of a bare traceback
        log.exception("unexpected error in the CLI")
        return _fail(
            f"Unexpected error ({type(exc).__name__}: {exc}); details are in "
            f"{settings.logs_dir / 'technical.log'}.",
            5,
        )
    finally:
        backend.close()

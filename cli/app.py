"""Entry point of the CLI: parse flags, resolve settings, connect to a backend, then one-shot or interactive.

Heavy modules (ollama, rich, prompt_toolkit) are imported only after the flags are parsed, so ``--help`` and
``--version`` are instant and the interactive prompt appears quickly.

The language (``--lang``, else config.toml's ``language`` / ``IA_LANG``, else the locale) is chosen before
the parser is built, so ``--help`` and usage errors are in it too (cli.arguments), and again once the
settings are loaded for good.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cli.arguments import (
    LANG_CHOICES,
    HelpFormatter,
    language_from_argv,
    option_from_argv,
    translate_argparse,
)
from core.i18n import N_, _, set_language

if TYPE_CHECKING:
    from config import Settings

__all__ = ["EXIT_INTERRUPTED", "EXIT_OK", "EXIT_USAGE", "build_parser", "main", "version"]

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130

_EPILOG = N_("""\
exit codes: 0 done, 1 a problem on this machine (files, settings), 2 bad usage, 3 server unreachable,
4 model not found, 5 other server error, 130 interrupted. Without a PROMPT on a terminal, an interactive chat starts (type /help there).
The language: --lang en|fr|auto, else config.toml's language or IA_LANG, else the locale (LANG); /lang in the chat.
Text piped on stdin is added to the prompt: git diff | python main.py "Review this diff"
One-shot flags as in `ollama run` and `llm`:
  python main.py -o temperature 0.2 -o stop '["\\n\\n"]' -s "Answer in French." "Hello"
  python main.py -a photo.png -m llava "What is in this picture?"
  python main.py -c "And in German?"                  (continue the last conversation)
  python main.py --format json "Three colours as a JSON list"; --format schema.json for a JSON schema
  python main.py --think=high --keepalive 30m -n "A private question"   (-n: nothing is saved)
""")


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
            _("'{value}' is not a server address ({detail}); write it like 127.0.0.1:11434").format(
                value=value, detail=exc
            )
        ) from None
    return value


def _checked(parse: Callable[[str], Any]) -> Callable[[str], Any]:
    """An argparse type from a cli.set_values / cli.flags parser: its message becomes the usage error."""

    def convert(raw: str) -> Any:
        from cli.set_values import SetValueError

        try:
            return parse(raw)
        except SetValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = parse.__name__
    return convert


def _think(raw: str) -> bool | str:
    from cli.set_values import parse_think

    return parse_think(raw)


def _keepalive(raw: str) -> str | int:
    from cli.set_values import parse_keep_alive

    return parse_keep_alive(raw)


def _format(raw: str) -> str | dict | None:
    from cli.set_values import parse_format

    return parse_format(raw)


def _image(raw: str) -> Path:
    from cli.flags import check_image

    return check_image(raw)


class _VersionAction(argparse.Action):
    """--version that reads the version only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *args: Any) -> None:
        print(f"IA_V3 {version()}")  # i18n: the program's name and version
        parser.exit()


def build_parser() -> argparse.ArgumentParser:
    """The command-line flags of main.py."""
    p = argparse.ArgumentParser(
        prog=None,  # the name it was started by: main.py, or iav3 (the console script)
        description=_("Chat with local models served by Ollama or by the embedded llama.cpp backend."),
        epilog=_(_EPILOG),
        formatter_class=HelpFormatter,
    )
    p.add_argument(
        "prompt",
        nargs="*",
        metavar=_("PROMPT"),
        help=_("send this prompt, print the reply and exit (one-shot)"),
    )
    p.add_argument(
        "-m",
        "--model",
        metavar=_("MODEL"),
        help=_(
            "model to use (default: the session's, IA_MODEL or config.toml's, else smollm2:135m on the "
            "embedded backend or the first installed)"
        ),
    )
    continued = p.add_mutually_exclusive_group()
    continued.add_argument(
        "--session", metavar=_("NAME"), help=_("continue this session (slug or title); created if new")
    )
    continued.add_argument(
        "-c", "--continue", dest="cont", action="store_true", help=_("continue the last conversation")
    )
    p.add_argument(
        "--json", action="store_true", help=_("one-shot: print one JSON record instead of the text")
    )
    backend = p.add_mutually_exclusive_group()
    backend.add_argument("--embedded", action="store_true", help=_("use the embedded llama.cpp backend"))
    backend.add_argument(
        "--no-embedded", action="store_true", help=_("never fall back to the embedded backend")
    )
    p.add_argument(
        "--host",
        metavar="URL",
        type=_host,
        help=_(
            "Ollama server (default: OLLAMA_HOST or 127.0.0.1:11434), or an OpenAI-compatible one: a URL "
            "ending in /v1 (llama-server, LM Studio, vLLM: http://127.0.0.1:8080/v1) or openai:URL; "
            "OPENAI_API_KEY is sent when set"
        ),
    )
    p.add_argument(
        "--home", metavar=_("DIR"), help=_("data folder holding sav/, logs/, data/ (default: IA_HOME)")
    )
    p.add_argument(
        "--profile", metavar=_("NAME"), help=_("apply a saved profile (model, system prompt, options)")
    )
    p.add_argument("--plain", action="store_true", help=_("plain text output instead of rendered Markdown"))
    p.add_argument(
        "--lang",
        choices=LANG_CHOICES,
        help=_(
            "the language of the interface for this run: en, fr, or auto (the locale's); default: "
            "config.toml's language or IA_LANG, else the locale"
        ),
    )
    p.add_argument(
        "-s",
        "--system",
        metavar=_("TEXT"),
        help=_("system prompt (of the new conversation, or replacing the continued one's)"),
    )
    p.add_argument(
        "-o",
        "--option",
        nargs=2,
        action="append",
        metavar=(_("KEY"), _("VALUE")),
        default=[],
        help=_(
            "a model option for this run, e.g. -o temperature 0.2 -o num_ctx 8192 "
            "(repeatable; any option of Ollama's API; stop takes a string or a JSON list)"
        ),
    )
    p.add_argument(
        "-a",
        "--attach",
        "--attachment",
        dest="attach",
        metavar=_("FILE"),
        action="append",
        default=[],
        type=_checked(_image),
        help=_("attach an image to the prompt (repeatable; the model needs vision)"),
    )
    p.add_argument(
        "--format",
        metavar=_("json|SCHEMA_FILE"),
        type=_checked(_format),
        help=_("structured reply: json, or a JSON schema (a file, or inline {...}); /set format in the chat"),
    )
    thinking = p.add_mutually_exclusive_group()
    thinking.add_argument(
        "--think",
        metavar=_("LEVEL"),
        nargs="?",
        const=True,
        type=_checked(_think),
        help=_("ask a thinking model to think (--think=low|medium|high for a level)"),
    )
    thinking.add_argument(
        "--no-think",
        dest="think",
        action="store_false",
        default=None,
        help=_("ask a thinking model not to think"),
    )
    p.add_argument(
        "--keepalive",
        metavar=_("DURATION"),
        type=_checked(_keepalive),
        help=_("how long the model stays loaded after the reply: 5m, 1h, 0 (unload now), -1 (forever)"),
    )
    p.add_argument(
        "-n",
        "--no-log",
        action="store_true",
        help=_("one-shot: save nothing of the exchange (no session, logs, DEV records or search index)"),
    )
    p.add_argument(
        "--dev", action="store_true", help=_("DEV mode: pick the model, show timings, log requests")
    )
    p.add_argument("--version", action=_VersionAction, help=_("print the version and exit"))
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
        "think": args.think,
        "keep_alive": args.keepalive,
        "language": args.lang,
    }


def apply_profile(settings: Settings, name: str, args: argparse.Namespace | None = None) -> str:
    """Load a profile into the settings (explicit -m / --system flags still win); returns its name."""
    from core.errors import IAError
    from core.profiles import list_profiles, load_profile, profile_path

    if not profile_path(settings, name).is_file():
        names = [p.name for p in list_profiles(settings)]
        known = (
            _("saved ones: {names}").format(names=", ".join(names))
            if names
            else _("none is saved in {folder} yet").format(folder=settings.profiles_dir)
        )
        raise IAError(
            _(
                "There is no profile named '{name}' ({known}); create it with "
                'python tools/update_system_prompt.py set {name} "SYSTEM PROMPT" --model MODEL.'
            ).format(name=name, known=known)
        )
    profile = load_profile(settings, name)
    if profile.model and not (args is not None and args.model):
        settings.model = profile.model
    if profile.system_prompt and not (args is not None and args.system):
        settings.system_prompt = profile.system_prompt
    settings.options = {**settings.options, **profile.options}
    return profile.name


def _configured_language(raw: list[str]) -> str:
    """The language config.toml or IA_LANG asks for (the home from ``--home`` when given), read before the
    flags are parsed; "auto" when they cannot be read (the failure is reported once they are loaded)."""
    from config import load_settings
    from core.errors import IAError

    try:
        return load_settings({"home": option_from_argv(raw, "--home")}).language
    except (IAError, OSError, ValueError):
        return "auto"


def _fail(message: str, code: int) -> int:
    print(message, file=sys.stderr)
    return code


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the process exit code."""
    from cli.flags import normalise_argv

    raw = normalise_argv(sys.argv[1:] if argv is None else list(argv))
    set_language(language_from_argv(raw) or _configured_language(raw))
    translate_argparse()
    parser = build_parser()
    args = parser.parse_args(raw)
    args.options = {}
    if args.option:
        from cli.flags import parse_options
        from cli.set_values import SetValueError

        try:
            args.options = parse_options(tuple(pair) for pair in args.option)
        except SetValueError as exc:
            parser.error(
                _("argument %(argument_name)s: %(message)s")
                % {"argument_name": "-o/--option", "message": exc}
            )
    prompt = " ".join(args.prompt).strip()
    piped = "" if sys.stdin is None or sys.stdin.isatty() else _read_stdin()
    interactive = not prompt and not piped.strip() and sys.stdin is not None and sys.stdin.isatty()
    if not interactive and not prompt and not piped.strip():
        parser.error(_("nothing to send: give a PROMPT or pipe text on stdin"))
    if interactive and args.json:
        parser.error(_("--json needs a PROMPT (it is for one-shot use)"))
    if interactive and args.no_log:
        parser.error(_("-n/--no-log needs a PROMPT (it is for one-shot use)"))

    from config import load_settings
    from core.errors import IAError, exit_code

    try:
        settings = load_settings(_flags(args))
    except IAError as exc:
        return _fail(str(exc), exit_code(exc))
    set_language(settings.language)  # --lang, else config.toml / IA_LANG, else the locale
    if args.profile:
        try:
            apply_profile(settings, args.profile, args)
        except IAError as exc:  # a profile named on the command line that does not exist: bad usage
            return _fail(str(exc), EXIT_USAGE)
    settings.options.update(args.options)  # -o wins over config.toml and the profile
    try:
        return _run(settings, args, prompt, piped, interactive)
    except KeyboardInterrupt:
        return _fail(_("Interrupted."), EXIT_INTERRUPTED)


def _run(settings: Settings, args: argparse.Namespace, prompt: str, piped: str, interactive: bool) -> int:
    from core.backend import connect
    from core.errors import IAError, exit_code
    from core.logs import setup_technical_log

    if args.no_log:  # nothing is written under IA_HOME: warnings go to stderr (logging's last resort)
        import logging

        log = logging.getLogger("ia")
    else:
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
        message = (
            _("Unexpected error ({error}); details are above (-n writes no log).")
            if args.no_log
            else _("Unexpected error ({error}); details are in {log}.")
        )
        return _fail(
            message.format(error=f"{type(exc).__name__}: {exc}", log=settings.logs_dir / "technical.log"), 5
        )
    finally:
        backend.close()

"""Shared driver of the per-model scripts (`tools/benchmark_<model>.py`): a preset over the benchmark CLI's
`run` (benchcli.app.run_with_hosts, over the facade core.benchmark.service).

The script loads `ollama_configs/<name>_tests/preset.toml` (IA_HOME's copy when there is one, else the shipped
one: core.benchmark.presets.preset_dirs), checks that the model is installed and, if not,
says how to get it and offers to create it from the folder's Modelfile (or pull it), with progress. Without a
terminal to ask and without `--yes`, it prints the message and exits with code 4 (model not found).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

from benchcli.app import add_generation_flags, run_with_hosts
from benchcli.display import console, error
from core.benchmark.presets import Preset, load_preset, parse_modelfile
from core.benchmark.service import Hosts
from core.errors import IAError, exit_code
from core.ollama_client import OllamaClient

__all__ = ["ensure_model", "missing_model_message", "preset_command", "preset_main"]

EXIT_MODEL_MISSING = 4


def _installed(client: OllamaClient, model: str) -> bool:
    wanted = model if ":" in model.rsplit("/", 1)[-1] else f"{model}:latest"
    return any((m.name if ":" in m.name else f"{m.name}:latest") == wanted for m in client.list_models())


def missing_model_message(preset: Preset, host: str) -> str:
    """What to tell the user when the preset's model is not on the server."""
    lines = [f"Model '{preset.model}' (preset {preset.name}) is not installed on {host}."]
    if preset.modelfile_path is not None:
        base = parse_modelfile(
            preset.modelfile_path.read_text(encoding="utf-8"), str(preset.modelfile_path)
        ).from_
        lines.append(
            f"It is built from {preset.modelfile_path} (FROM {base}): rerun with --yes to create it "
            f"(Ollama pulls {base} if needed), or run `ollama create {preset.model} -f {preset.modelfile_path}`."
        )
    else:
        lines.append(f"Rerun with --yes to pull it, or run `ollama pull {preset.model}`.")
    return "\n".join(lines)


def _stream_progress(stream: object, title: str) -> None:
    with Progress(TextColumn("[bold]{task.description}"), BarColumn(), DownloadColumn(),
                  TextColumn("{task.fields[status]}"), console=console) as bar:  # fmt: skip
        task = bar.add_task(title, total=None, status="")
        for step in stream:  # PullProgress(status, digest, completed, total)
            bar.update(task, total=step.total or None, completed=step.completed or 0, status=step.status)


def ensure_model(
    client: OllamaClient,
    preset: Preset,
    *,
    yes: bool,
    ask: Callable[[str], str] | None = None,
    interactive: bool | None = None,
) -> bool:
    """True when the model is (now) installed; False when the user declined or could not be asked."""
    if _installed(client, preset.model):
        return True
    console.print(missing_model_message(preset, client.host), markup=False)
    interactive = sys.stdin.isatty() if interactive is None else interactive
    choice = "c" if preset.modelfile_path is not None else "p"
    if not yes:
        if not interactive:
            return False
        prompt = (
            "Create it from the Modelfile [c], pull it [p], or quit [q]? "
            if choice == "c"
            else "Pull it [p] or quit [q]? "
        )
        choice = (ask or input)(prompt).strip().lower()[:1]
        if choice not in ("c", "p"):
            return False
    if choice == "c" and preset.modelfile_path is not None:
        mf = parse_modelfile(preset.modelfile_path.read_text(encoding="utf-8"), str(preset.modelfile_path))
        stream = client.create(preset.model, from_=mf.from_, system=mf.system, template=mf.template,
                               parameters=mf.parameters or None)  # fmt: skip
        _stream_progress(stream, f"create {preset.model}")
    else:
        _stream_progress(client.pull(preset.model), f"pull {preset.model}")
    return _installed(client, preset.model)


def build_parser(preset: Preset) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        description=f"Benchmark preset '{preset.name}': {preset.description or preset.model} "
        f"(model {preset.model}, {preset.style} style, suite {preset.suite}). Flags override the preset."
    )
    add_generation_flags(parser)
    parser.set_defaults(suite=preset.suite, style=preset.style, n=preset.n, limit=preset.limit)
    parser.add_argument("--model", default=preset.model, help=f"model to run (default {preset.model})")
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument(
        "--yes", "-y", action="store_true", help="create or pull a missing model without asking"
    )
    return parser


def preset_main(name: str, argv: Sequence[str] | None = None) -> int:
    """Entry point of `tools/benchmark_<name>.py`."""
    try:
        from config import load_settings

        preset = load_preset(name, home=load_settings({}).home)  # the user's copy in IA_HOME first
    except IAError as exc:
        error(exc)
        return exit_code(exc)
    args = build_parser(preset).parse_args(argv)
    args.resume = None
    preset.model = args.model
    args.model = [preset.model]
    try:
        hosts = Hosts(args.hosts, embedded=args.embedded)
    except IAError as exc:
        error(exc)
        return exit_code(exc)
    try:
        console.print(hosts.note)
        if not ensure_model(hosts.clients[0], preset, yes=args.yes):
            return EXIT_MODEL_MISSING
        base = dict(preset.options)
        return run_with_hosts(args, hosts, base_options=base)
    except IAError as exc:
        error(exc)
        return exit_code(exc)
    except KeyboardInterrupt:
        error("Interrupted.", "yellow")
        return 130
    finally:
        hosts.close()


def preset_command(name: str) -> Callable[[Sequence[str] | None], int]:
    """The `main(argv)` of `tools/benchmark_<name>.py`: preset_main over that preset."""

    def main(argv: Sequence[str] | None = None) -> int:
        return preset_main(name, argv)

    main.__doc__ = f"Run the benchmark preset '{name}' (flags override it)."
    return main

"""Model commands: /models, /model, /show, /pull, /rm, /ps, /unload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.background import run_interruptible
from cli.commands import CommandError, command

if TYPE_CHECKING:
    from cli.state import CliState
    from core.machine import FitVerdict
    from core.model_records import ModelInfo, PullProgress
    from core.models import ModelManager

__all__ = ["find_model", "fit_style", "same_model"]


def _manager(state: CliState) -> ModelManager:
    from core.models import ModelManager

    return ModelManager(state.backend.client)


def _size(n: int | None) -> str:
    if not n:
        return "-"
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if n < 1000 or unit == "TB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1000
    return "-"


def same_model(a: str, b: str) -> bool:
    """Model names are equal when they match with the implicit ':latest' tag."""
    norm = [(x if ":" in x else f"{x}:latest").lower() for x in (a, b)]
    return norm[0] == norm[1]


def find_model(models: list[ModelInfo], name: str) -> ModelInfo | None:
    return next((m for m in models if same_model(m.name, name)), None)


def fit_style(verdict: FitVerdict) -> str:
    """Colour of a fit label: red when the model does not fit, yellow when tight, none when it fits."""
    if not verdict.fits:
        return "red"
    return "yellow" if verdict.label == "tight" else ""


@command(
    "models", "/models", "installed models, whether each fits this machine (* = current), and models to pull"
)
def _models(state: CliState, arg: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from core.machine import machine_resources

    resources = machine_resources()
    manager = _manager(state)
    judged = manager.fit(resources)  # one /api/tags request: fit is judged from the listed sizes
    state.out.print(f"This machine: {resources.summary()}", markup=False)
    if not judged:
        state.out.print(f"No model is installed on {state.backend.host}: pull one with /pull NAME.")
    else:
        table = Table(
            "", "name", "size", "parameters", "quantization", "context", "capabilities", "fits here"
        )
        for m, verdict in judged:
            mark = "*" if state.model and same_model(m.name, state.model) else ""
            ctx = str(m.context_length) if m.context_length else "-"
            table.add_row(
                mark,
                m.name,
                _size(m.size),
                m.parameter_size or "-",
                m.quantization or "-",
                ctx,
                ", ".join(m.capabilities) or "-",
                Text(verdict.label, style=fit_style(verdict)),
            )
        state.out.print(table)
    _recommended(state, manager, resources, {m.name for m, _v in judged})


def _recommended(state: CliState, manager: ModelManager, resources: Any, installed: set[str]) -> None:
    """The short list of models to pull for this machine's class, each with its fit and where it would run."""
    from rich.table import Table
    from rich.text import Text

    from core.recommended import TIERS

    tier, entries = manager.recommended(resources, installed)
    kind = "from Hugging Face (GGUF, Q4_K_M)" if state.backend.kind == "embedded" else "from Ollama's library"
    state.out.print(f"Recommended for {TIERS[tier]}, {kind}: /pull NAME", markup=False)
    table = Table("name", "size", "parameters", "good at", "fits here", "runs")
    for entry in entries:
        verdict = entry.verdict
        label = "installed" if entry.installed else verdict.label
        runs = verdict.gpu.split(":")[0] if verdict.fits else "-"
        table.add_row(
            entry.name,
            _size(entry.size),
            entry.model.parameters,
            entry.model.good_at,
            Text(label, style="green" if entry.installed else fit_style(verdict)),
            runs,
        )
    state.out.print(table)


@command("model", "/model NAME", "use another model for this conversation")
def _model(state: CliState, arg: str) -> None:
    if not arg:
        current = state.model or "(first installed)"
        raise CommandError(f"Current model: {current}.")
    models = _manager(state).list()
    found = find_model(models, arg)
    if found is None:
        import difflib

        close = difflib.get_close_matches(arg, [m.name for m in models], n=1, cutoff=0.4)
        hint = f" Did you mean {close[0]}?" if close else " See /models, or /pull it."
        state.err.print(f"Model '{arg}' is not installed on {state.backend.host}.{hint}", style="red")
        return
    state.model = found.name
    if state.conv is not None:
        state.conv.model = found.name
        state.sessions.save(state.conv)
    state.out.print(f"Model: {found.name}")


@command("show", "/show [NAME]", "details of the current model (or NAME)")
def _show(state: CliState, arg: str) -> None:
    name = arg or state.model
    if not name:
        raise CommandError("No model chosen yet.")
    d = _manager(state).show(name)
    rows = [
        ("name", d.name),
        ("family", d.family),
        ("parameters", d.parameter_size),
        ("quantization", d.quantization),
        ("context length", str(d.context_length or "-")),
        ("capabilities", ", ".join(d.capabilities)),
        ("system prompt", d.system.strip()),
        ("options", d.parameters.strip()),
        ("template", d.template.strip()),
        ("license", (d.license or "").strip().splitlines()[0] if d.license else ""),
    ]
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        if value:  # a value of several lines (template, options) stays in its column
            shown = value.replace("\n", "\n" + " " * (width + 2))
            state.out.print(f"{key:<{width}}  {shown}", markup=False)


@command("pull", "/pull NAME", "download a model (Ctrl-C stops)")
def _pull(state: CliState, arg: str) -> None:
    import threading

    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    if not arg:
        raise CommandError("Name the model to pull.")
    cancel = threading.Event()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=state.out,
        transient=False,
    )
    tasks: dict[str, int] = {}
    finished: set[str] = set()

    def on_progress(p: PullProgress) -> None:
        if not p.digest or not p.total:  # a step without bytes ("pulling manifest", "success"): one line
            progress.console.print(p.status)
            return
        if p.digest in finished:
            return
        if p.digest not in tasks:
            tasks[p.digest] = progress.add_task(p.status[:40], total=p.total)
        progress.update(tasks[p.digest], completed=p.completed or 0, total=p.total)
        if (p.completed or 0) >= p.total:  # a finished layer becomes one line, so the steps stay in order
            progress.remove_task(tasks.pop(p.digest))
            progress.refresh()
            finished.add(p.digest)
            progress.console.print(f"{p.status[:40]}  {_size(p.total)}  done")

    with progress:
        _, interrupted = run_interruptible(lambda: _manager(state).pull(arg, on_progress, cancel), cancel.set)
    if interrupted:
        state.err.print(f"Pull of {arg} stopped.", style="yellow")
    else:
        state.out.print(f"Pulled {arg}.")


@command("rm", "/rm NAME", "delete an installed model (asks first)")
def _rm(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError("Name the model to delete.")
    if not state.confirm(f"Delete model {arg} from {state.backend.host}?"):
        state.out.print("Kept.")
        return
    _manager(state).delete(arg)
    state.out.print(f"Deleted {arg}.")


@command("ps", "/ps", "models loaded in memory now")
def _ps(state: CliState, arg: str) -> None:
    from rich.table import Table

    running = _manager(state).running()
    if not running:
        state.out.print("No model is loaded.")
        return
    table = Table("name", "size", "on GPU", "context", "until")
    for r in running:
        until = r.expires_at.strftime("%H:%M:%S") if r.expires_at else "-"
        table.add_row(r.name, _size(r.size), _size(r.size_vram), str(r.context_length or "-"), until)
    state.out.print(table)


@command("unload", "/unload [NAME]", "free the memory held by the current model (or NAME)")
def _unload(state: CliState, arg: str) -> None:
    name = arg or state.model
    if not name:
        raise CommandError("No model chosen yet.")
    from core.errors import NotSupported

    manager = _manager(state)
    try:
        loaded = [r.name for r in manager.running()]
    except NotSupported:  # an OpenAI-compatible server: its own sentence says what to do instead
        manager.unload(name)
        return
    if not any(same_model(n, name) for n in loaded):
        others = f"loaded now: {', '.join(loaded)}" if loaded else "no model is loaded"
        state.out.print(f"{name} is not loaded ({others}); nothing to unload.", markup=False)
        return
    manager.unload(name)
    state.out.print(f"Unloaded {name}.")

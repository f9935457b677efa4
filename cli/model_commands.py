"""Model commands: /models, /model, /show, /pull, /rm, /ps, /unload."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cli.background import run_interruptible
from cli.commands import CommandError, command
from core.i18n import N_, _, format_number, format_size, format_time

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
    """A size in the locale's units (1.5 GB, 1,5 Go); "-" when unknown."""
    return format_size(n) if n else "-"


def _progress_columns() -> tuple[Any, Any]:
    """Rich progress columns for the bytes done and the speed, in the locale's units."""
    from rich.progress import ProgressColumn, Task
    from rich.text import Text

    class Bytes(ProgressColumn):
        def render(self, task: Task) -> Text:
            total = format_size(task.total) if task.total is not None else "?"
            return Text(f"{format_size(task.completed)}/{total}", style="progress.download")

    class Speed(ProgressColumn):
        def render(self, task: Task) -> Text:
            speed = task.finished_speed or task.speed
            shown = _("{size}/s").format(size=format_size(speed)) if speed is not None else "?"
            return Text(shown, style="progress.data.speed")

    return Bytes(), Speed()


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
    return "yellow" if verdict.tight else ""


@command(
    "models",
    N_("/models"),
    N_("installed models, whether each fits this machine (* = current), and models to pull"),
)
def _models(state: CliState, arg: str) -> None:
    from rich.table import Table
    from rich.text import Text

    from core.machine import machine_resources

    resources = machine_resources()
    manager = _manager(state)
    judged = manager.fit(resources)  # one /api/tags request: fit is judged from the listed sizes
    state.out.print(_("This machine: {summary}").format(summary=resources.summary()), markup=False)
    if not judged:
        state.out.print(
            _("No model is installed on {host}: pull one with /pull NAME.").format(host=state.backend.host)
        )
    else:
        table = Table(
            "",
            _("name"),
            _("size"),
            _("parameters"),
            _("quantization"),
            _("context"),
            _("capabilities"),
            _("fits here"),
        )
        for m, verdict in judged:
            mark = "*" if state.model and same_model(m.name, state.model) else ""
            ctx = format_number(m.context_length) if m.context_length else "-"
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
    message = (
        _("Recommended for {machine}, from Hugging Face (GGUF, Q4_K_M): /pull NAME")
        if state.backend.kind == "embedded"
        else _("Recommended for {machine}, from Ollama's library: /pull NAME")
    )
    state.out.print(message.format(machine=_(TIERS[tier])), markup=False)
    table = Table(_("name"), _("size"), _("parameters"), _("good at"), _("fits here"), _("would run"))
    for entry in entries:
        verdict = entry.verdict
        label = _("installed") if entry.installed else verdict.label
        runs = verdict.gpu.split(":")[0] if verdict.fits else "-"
        table.add_row(
            entry.name,
            _size(entry.size),
            entry.model.parameters,
            _(entry.model.good_at),
            Text(label, style="green" if entry.installed else fit_style(verdict)),
            runs,
        )
    state.out.print(table)


@command("model", N_("/model NAME"), N_("use another model for this conversation"))
def _model(state: CliState, arg: str) -> None:
    if not arg:
        current = state.model or _("(first installed)")
        raise CommandError(_("Current model: {name}.").format(name=current))
    models = _manager(state).list()
    found = find_model(models, arg)
    if found is None:
        import difflib

        close = difflib.get_close_matches(arg, [m.name for m in models], n=1, cutoff=0.4)
        message = (
            _("Model '{name}' is not installed on {host}. Did you mean {close}?")
            if close
            else _("Model '{name}' is not installed on {host}. See /models, or /pull it.")
        )
        state.err.print(
            message.format(name=arg, host=state.backend.host, close=close[0] if close else ""), style="red"
        )
        return
    state.model = found.name
    if state.conv is not None:
        state.conv.model = found.name
        state.sessions.save(state.conv)
    state.out.print(_("Model: {name}").format(name=found.name))


@command("show", N_("/show [NAME]"), N_("details of the current model (or NAME)"))
def _show(state: CliState, arg: str) -> None:
    name = arg or state.model
    if not name:
        raise CommandError(_("No model chosen yet."))
    d = _manager(state).show(name)
    rows = [
        (_("name"), d.name),
        (_("family"), d.family),
        (_("parameters"), d.parameter_size),
        (_("quantization"), d.quantization),
        (_("context length"), format_number(d.context_length) if d.context_length else "-"),
        (_("capabilities"), ", ".join(d.capabilities)),
        (_("system prompt"), d.system.strip()),
        (_("options"), d.parameters.strip()),
        (_("template"), d.template.strip()),
        (_("license"), (d.license or "").strip().splitlines()[0] if d.license else ""),
    ]
    width = max(len(k) for k, _value in rows)
    for key, value in rows:
        if value:  # a value of several lines (template, options) stays in its column
            shown = value.replace("\n", "\n" + " " * (width + 2))
            state.out.print(f"{key:<{width}}  {shown}", markup=False)


@command("pull", N_("/pull NAME"), N_("download a model (Ctrl-C stops)"))
def _pull(state: CliState, arg: str) -> None:
    import threading

    from rich.progress import BarColumn, Progress, TextColumn

    if not arg:
        raise CommandError(_("Name the model to pull."))
    cancel = threading.Event()
    done_bytes, speed = _progress_columns()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        done_bytes,
        speed,
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
            progress.console.print(_("{step}  {size}  done").format(step=p.status[:40], size=_size(p.total)))

    with progress:
        _result, interrupted = run_interruptible(
            lambda: _manager(state).pull(arg, on_progress, cancel), cancel.set
        )
    if interrupted:
        state.err.print(_("Pull of {name} stopped.").format(name=arg), style="yellow")
    else:
        state.out.print(_("Pulled {name}.").format(name=arg))


@command("rm", N_("/rm NAME"), N_("delete an installed model (asks first)"))
def _rm(state: CliState, arg: str) -> None:
    if not arg:
        raise CommandError(_("Name the model to delete."))
    if not state.confirm(_("Delete model {name} from {host}?").format(name=arg, host=state.backend.host)):
        state.out.print(_("Kept."))
        return
    _manager(state).delete(arg)
    state.out.print(_("Deleted {name}.").format(name=arg))


@command("ps", N_("/ps"), N_("models loaded in memory now"))
def _ps(state: CliState, arg: str) -> None:
    from rich.table import Table

    running = _manager(state).running()
    if not running:
        state.out.print(_("No model is loaded."))
        return
    table = Table(_("name"), _("size"), _("on GPU"), _("context"), _("until"))
    for r in running:
        until = format_time(r.expires_at.astimezone(), "medium") if r.expires_at else "-"
        context = format_number(r.context_length) if r.context_length else "-"
        table.add_row(r.name, _size(r.size), _size(r.size_vram), context, until)
    state.out.print(table)


@command("unload", N_("/unload [NAME]"), N_("free the memory held by the current model (or NAME)"))
def _unload(state: CliState, arg: str) -> None:
    name = arg or state.model
    if not name:
        raise CommandError(_("No model chosen yet."))
    from core.errors import NotSupported

    manager = _manager(state)
    try:
        loaded = [r.name for r in manager.running()]
    except NotSupported:  # an OpenAI-compatible server: its own sentence says what to do instead
        manager.unload(name)
        return
    if not any(same_model(n, name) for n in loaded):
        message = (
            _("{name} is not loaded (loaded now: {loaded}); nothing to unload.")
            if loaded
            else _("{name} is not loaded (no model is loaded); nothing to unload.")
        )
        state.out.print(message.format(name=name, loaded=", ".join(loaded)), markup=False)
        return
    manager.unload(name)
    state.out.print(_("Unloaded {name}.").format(name=name))

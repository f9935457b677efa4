"""The app's actions on the model server: connection and health, switching to another server (Ollama or
OpenAI-compatible) from the backend panel, model list/details/pull/delete/unload, DEV figures, and benchmark
runs. A mixin of IAApp (ui/app.py), kept apart so each module has one job."""

from __future__ import annotations

import logging
from typing import Any

from config import EMBEDDED_DEFAULT_MODEL, Settings, parse_host
from core.errors import ModelNotFound, ServerUnreachable
from core.i18n import N_, _, format_number, format_percent, format_size
from ui.controller import describe_error

__all__ = ["BackendActions", "remembered_host"]

log = logging.getLogger("ia.ui")

# How the status bar and the welcome line name each kind of backend (core.backend.Backend.kind).
_KIND_SHORT = {"ollama": "Ollama", "embedded": N_("Embedded"), "openai": N_("OpenAI API")}
_KIND_LONG = {
    "ollama": N_("Ollama server"),
    "embedded": N_("embedded llama.cpp backend"),
    "openai": N_("OpenAI-compatible server"),
}


def remembered_host(settings: Settings) -> str:
    """The server chosen last in the backend panel (settings.ui["host"]), normalised; "" when none was chosen
    or what is saved is not an address (then the default applies, and the log says why)."""
    saved = settings.ui.get("host")
    if not isinstance(saved, str) or not saved.strip():
        return ""
    try:
        return parse_host(saved)
    except ValueError as exc:
        log.warning("ignoring the remembered server %r: %s", saved, exc)
        return ""


class BackendActions:
    """Connect, watch and manage the model server; every call goes through the controller's workers."""

    # -- backend --------------------------------------------------------------------------------------
    def connect(self) -> None:
        """(Re)connect in the background; the window says "Connecting…" at once."""
        self.backend_status = "connecting"
        self._say_status(lambda: _("Connecting…"))
        info = self.ids.info
        info.status = "connecting"
        self._say_note(lambda: _("Looking for Ollama, else starting the embedded backend…"))
        self.controller.connect(self._connected)

    def switch_host(self, text: str) -> None:
        """The backend panel's Connect: use the server typed there from now on ("" = the default). The current
        server keeps serving until the new one answers; the choice is remembered for the next start."""
        info = self.ids.info
        if self.bench_cancel is not None or self.pull_cancel is not None:
            info.host_error = _(
                "A benchmark run or a pull is using the current server: let it end or cancel it first."
            )
            return
        try:
            host = parse_host(text) if text else ""
        except ValueError as exc:
            info.host_error = _(
                "“{text}” is not a server address ({reason}): write it like http://127.0.0.1:11434, or "
                "http://127.0.0.1:8080/v1 for an OpenAI-compatible server."
            ).format(text=text, reason=exc)
            return
        if self.streaming:
            self.stop_reply()
        info.host_error = ""
        info.switching = True
        target = host or self.default_host
        self._say_status(lambda: _("Connecting to {host}…").format(host=target))

        def done(backend: Any, error: BaseException | None) -> None:
            info.switching = False
            if error is not None:
                current = self.controller.backend
                still = (
                    " " + _("Still using {host}.").format(host=current.host) if current is not None else ""
                )
                if isinstance(error, ServerUnreachable):
                    info.host_error = (
                        _("Nothing answers at {host}: start the server there, or check the address.").format(
                            host=error.host
                        )
                        + still
                    )
                else:
                    info.host_error = f"{error}{still}"
                self._set_status_text()
                return
            self.chosen_host = host
            info.host_text = host
            self.settings.ollama_host = backend.host if host else self.default_host
            ui = {k: v for k, v in self.settings.ui.items() if k != "host"}
            self.settings.ui = {**ui, "host": host} if host else ui
            self._save_settings("ui")
            self._switched = True  # the new server's models: keep the model only if it has it
            self._connected(backend, None)
            self.focus_input(force=True)  # switched to chat with it: the message box takes the keyboard

        self.controller.switch_host(target, done, fallback=not host)

    def _connected(self, backend: Any, error: BaseException | None) -> None:
        info = self.ids.info
        if error is not None:
            self.backend_status = info.status = "offline"
            self._say_status(lambda: _("Offline"))
            self._say_note(lambda: str(error))
            self.show_problem(describe_error(error))
            self._flush_pending_send(False)
            return
        self.backend_status = info.status = "ready"
        self._say_note(lambda: backend.note)
        info.backend_kind = backend.kind
        self.ids.banner.hide()
        self._set_status_text()
        self.refresh_models()

    def _say_status(self, source: Any) -> None:
        """The status bar's text, made by ``source()`` now and again when the language changes."""
        self._status_source = source
        self.status_text = source()

    def _say_note(self, source: Any) -> None:
        """The backend section's note, made by ``source()`` now and again when the language changes."""
        self._note_source = source
        self.ids.info.note = source()

    def _backend_label(self) -> str:
        """How the welcome line names the backend: "Ollama server", "embedded llama.cpp backend", ..."""
        backend = self.controller.backend
        kind = backend.kind if backend is not None else ""
        return _(_KIND_LONG[kind]) if kind in _KIND_LONG else _("server")

    def _set_status_text(self) -> None:
        backend = self.controller.backend
        if backend is None:
            return
        self.backend_label = self._backend_label()

        def status() -> str:
            kind = _(_KIND_SHORT[backend.kind]) if backend.kind in _KIND_SHORT else backend.kind
            return f"{kind}  ·  {self.model}" if self.model else kind

        self._say_status(status)

    def _check_health(self) -> None:
        """While a backend is set, ping it: a server that went away or came back updates status and banner."""
        if self.controller.backend is None or self.streaming or self.backend_status == "connecting":
            return
        self.controller.check_alive(self._health_result)

    def _health_result(self, alive: bool) -> None:
        if self.controller.backend is None:
            return
        info = self.ids.info
        if alive and self.backend_status == "offline":
            self.backend_status = info.status = "ready"
            note = self.controller.backend.note
            self._say_note(lambda: note)
            self._set_status_text()
            if self.ids.banner.action_id in ("reconnect", "regenerate"):
                self.ids.banner.hide()
            self.refresh_models()
        elif not alive and self.backend_status == "ready":
            self.backend_status = info.status = "offline"
            self._say_status(lambda: _("Server not answering"))
            host, kind = self.controller.backend.host, self.controller.backend.kind
            self._say_note(lambda: _("The server at {host} stopped answering.").format(host=host))
            self.show_problem(
                lambda: describe_error(ServerUnreachable(host, _("it stopped answering"), backend=kind))
            )

    def refresh_models(self) -> None:
        self.controller.fit_models(self._models_listed, self._backend_failed)
        self.refresh_running()
        backend = self.controller.backend
        if backend is None or backend.kind != "openai":
            self.controller.recommend_models(self._recommended_listed, lambda _e: None)

    def refresh_running(self) -> None:
        """The models loaded in memory, on servers that can say (not an OpenAI-compatible one)."""
        backend = self.controller.backend
        if backend is not None and backend.kind != "openai":
            self.controller.running(self.ids.info.set_running, lambda _e: None)

    def _recommended_listed(self, listing: tuple[str, list[Any]]) -> None:
        """Models to pull for this machine's class (ModelManager.recommended), each in one click."""
        from core.recommended import TIERS

        self._recommended = listing
        tier, entries = listing
        backend = self.controller.backend
        where = (
            _("Hugging Face GGUFs (Q4_K_M)")
            if backend is not None and backend.kind == "embedded"
            else _("Ollama's library")
        )
        self.ids.info.set_recommended(
            _("For {machine}, from {where}: pull one in a click.").format(
                machine=_(TIERS[tier]), where=where
            ),
            entries,
        )

    def _models_listed(self, listing: tuple[Any, list[tuple[Any, Any]]]) -> None:
        """The installed models, each judged against this machine (Controller.fit_models)."""
        resources, judged = listing
        infos = [info for info, _verdict in judged]
        names = [i.name for i in infos]
        model = self.model or (self.conv.model if self.conv is not None else "") or self.settings.model
        if self._switched:  # another server: its own models, unless it has this one too
            self._switched = False
            if model not in names:
                model = ""
        if not model:
            backend = self.controller.backend
            if backend is not None and backend.kind == "embedded" and EMBEDDED_DEFAULT_MODEL in names:
                model = EMBEDDED_DEFAULT_MODEL
            elif names:
                model = names[0]
        backend = self.controller.backend
        if backend is not None and backend.kind == "openai":
            # The server has loaded its model already (perhaps on another machine): no fit to judge here.
            self.ids.info.set_models(infos, model)
        else:
            verdicts = {info.name: verdict for info, verdict in judged}
            self.ids.info.set_models(infos, model, verdicts, resources.summary())
        self._select_model(model)
        self._flush_pending_send(True)
        if model and names and model not in names:
            self.show_problem(describe_error(ModelNotFound(model)))

    def _select_model(self, name: str) -> None:
        self.model = name
        self.ids.bench.model = name
        self._set_status_text()
        if name and self.controller.backend is not None:
            self.controller.show_model(
                name,
                self._details_shown,
                lambda exc: self.ids.info.set_details(None, str(exc)),
            )

    def _details_shown(self, details: Any) -> None:
        info = self.ids.info
        info.set_details(details)
        if not info.can_think:
            self.settings.think = None  # a model that cannot think refuses think=true
        info.think = bool(self.settings.think)

    def pick_model(self, name: str) -> None:
        """The picker chose a model: it is used for this chat from now on and remembered for new chats."""
        self._select_model(name)
        self.settings.ui = {**self.settings.ui, "last_model": name}
        if self.conv is not None and self.conv.model != name and not self.streaming:
            self.conv.model = name
            conv = self.conv
            self.controller.run(lambda: self.controller.sessions.save(conv), None, self._storage_failed)

    def _backend_failed(self, exc: BaseException) -> None:
        self.show_problem(describe_error(exc))
        self._flush_pending_send(self.controller.backend is not None)
        if isinstance(exc, ServerUnreachable):
            self.backend_status = self.ids.info.status = "offline"
            self._say_status(lambda: _("Offline"))

    def _storage_failed(self, exc: BaseException) -> None:
        self.show_problem(describe_error(exc))

    # -- model management -----------------------------------------------------------------------------
    def pull(self, name: str) -> None:
        info = self.ids.info
        if self.pull_cancel is not None:
            return
        info.pull_progress(_("Pulling {name}…").format(name=name), 0.0)

        def progress(p: Any) -> None:
            status = f"{name}: {p.status}"
            if p.total:  # downloading a layer: how much of it, as people read sizes
                status += "  ·  " + _("{done} of {total} ({percent})").format(
                    done=format_size(p.completed or 0),
                    total=format_size(p.total),
                    percent=format_percent(p.fraction),
                )
            info.pull_progress(status, p.fraction)

        def done(error: BaseException | None, cancelled: bool) -> None:
            self.pull_cancel = None
            if cancelled:
                info.pull_finished(_("Pull of {name} cancelled.").format(name=name))
            elif error is not None:
                info.pull_finished(str(error))
                self.show_problem(describe_error(error))
            else:
                info.pull_finished(_("{name} is ready.").format(name=name))
                self.refresh_models()

        self.pull_cancel = self.controller.pull(name, progress, done)

    def delete_model(self, name: str) -> None:
        def deleted(_r: Any) -> None:
            self.ids.info.pull_status = _("Deleted {name}.").format(name=name)
            if self.model == name:
                self.model = ""
            self.refresh_models()

        self.controller.delete_model(name, deleted, self._backend_failed)

    def unload(self, name: str) -> None:
        self.controller.unload(name, lambda _r: self.refresh_models(), self._backend_failed)

    def set_dev_mode(self, on: bool) -> None:
        self.ids.info.dev_mode = on
        if self.settings.dev_mode != on:
            self.settings.dev_mode = on
            self._save_settings("dev_mode")

    def _load_dev_history(self) -> None:
        def read() -> list[Any]:
            return self.controller.devlog.read()[-20:]

        def show(records: list[Any]) -> None:
            self.speed_history = [r.gen_tps for r in records if r.gen_tps is not None]
            self.ids.info.set_stats(self.last_stats, self.speed_history)

        self.controller.run(read, show, lambda _e: None)

    # -- benchmark ------------------------------------------------------------------------------------
    def reload_board(self) -> None:
        from ui.benchmark_screen import load_board

        self.controller.run(
            lambda: load_board(self.settings.home), self.ids.bench.show_board, self._storage_failed
        )

    def run_benchmark(self) -> None:
        import threading

        from ui.benchmark_screen import QUICK_PROBLEMS, run_builtin_suite, run_failures

        bench = self.ids.bench
        backend = self.controller.backend
        if backend is None or not self.model or self.bench_cancel is not None:
            bench.run_finished(_("Connect to a server and pick a model first."))
            return
        cancel = threading.Event()
        self.bench_cancel = cancel
        bench.run_progress(0, 1)
        bench.status = _("Starting the built-in suite on {model}…").format(model=self.model)
        model, home = self.model, self.settings.home

        def progress(done: int, total: int) -> None:
            self.controller.post(lambda: bench.run_progress(done, total))

        def work() -> tuple[Any, list[Any]]:
            outcome = run_builtin_suite(backend, home, model, progress, cancel, limit)
            return outcome, run_failures(outcome)  # read here, off the window's thread

        def finished(done: tuple[Any, list[Any]]) -> None:
            outcome, failures = done
            self.bench_cancel = None
            if outcome.status == "complete":
                p1 = outcome.summary.pass1
                score = (
                    _("pass@1 {value} [{low}, {high}]").format(
                        value=format_percent(p1.value),
                        low=format_number(round(100 * p1.low)),
                        high=format_number(round(100 * p1.high)),
                    )
                    if p1
                    else _("scored")
                )
                bench.run_finished(
                    _("Run complete on {model}: {score}. Reports written to data/benchmarks/.").format(
                        model=model, score=score
                    )
                )
                bench.show_run(outcome.summary, failures)
            elif outcome.status == "interrupted":
                bench.run_finished(
                    _("Run cancelled; it can be resumed with `python main_benchmark.py run --resume`.")
                )
            else:
                bench.run_finished(str(outcome.error))
            self.reload_board()

        def failed(exc: BaseException) -> None:
            self.bench_cancel = None
            bench.run_finished(describe_error(exc).message)

        limit = QUICK_PROBLEMS if bench.quick else None
        self.controller.run(work, finished, failed)

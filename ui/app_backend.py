"""The app's actions on the model server: connection and health, model list/details/pull/delete/unload, DEV
figures, and benchmark runs. A mixin of IAApp (ui/app.py), kept apart so each module has one job."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock

from config import EMBEDDED_DEFAULT_MODEL
from core.errors import ModelNotFound, ServerUnreachable
from ui.controller import describe_error
from ui.info_panel import human_size

__all__ = ["BackendActions"]


class BackendActions:
    """Connect, watch and manage the model server; every call goes through the controller's workers."""

    # -- backend --------------------------------------------------------------------------------------
    def connect(self) -> None:
        """(Re)connect in the background; the window says "Connecting…" at once."""
        self.backend_status = "connecting"
        self.status_text = "Connecting…"
        info = self.ids.info
        info.status, info.note = "connecting", "Looking for Ollama, else starting the embedded backend…"
        self.controller.connect(self._connected)

    def _connected(self, backend: Any, error: BaseException | None) -> None:
        info = self.ids.info
        if error is not None:
            self.backend_status = info.status = "offline"
            self.status_text = "Offline"
            info.note = str(error)
            self.show_problem(describe_error(error))
            self._flush_pending_send(False)
            return
        self.backend_status = info.status = "ready"
        info.note = backend.note
        self.ids.banner.hide()
        self._set_status_text()
        self.refresh_models()

    def _set_status_text(self) -> None:
        backend = self.controller.backend
        if backend is None:
            return
        kind = "Ollama" if backend.kind == "ollama" else "Embedded"
        self.backend_label = "Ollama server" if backend.kind == "ollama" else "embedded llama.cpp backend"
        self.status_text = f"{kind}  ·  {self.model}" if self.model else kind

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
            info.note = self.controller.backend.note
            self._set_status_text()
            if self.ids.banner.action_id in ("reconnect", "regenerate"):
                self.ids.banner.hide()
            self.refresh_models()
        elif not alive and self.backend_status == "ready":
            self.backend_status = info.status = "offline"
            self.status_text = "Server not answering"
            host, kind = self.controller.backend.host, self.controller.backend.kind
            info.note = f"The server at {host} stopped answering."
            self.show_problem(describe_error(ServerUnreachable(host, "it stopped answering", backend=kind)))

    def refresh_models(self) -> None:
        self.controller.fit_models(self._models_listed, self._backend_failed)
        self.controller.running(self.ids.info.set_running, lambda _e: None)
        self.controller.recommend_models(self._recommended_listed, lambda _e: None)

    def _recommended_listed(self, listing: tuple[str, list[Any]]) -> None:
        """Models to pull for this machine's class (ModelManager.recommended), each in one click."""
        from core.recommended import TIERS

        tier, entries = listing
        backend = self.controller.backend
        where = (
            "Hugging Face GGUFs (Q4_K_M)"
            if backend is not None and backend.kind == "embedded"
            else "Ollama's library"
        )
        self.ids.info.set_recommended(f"For {TIERS[tier]}, from {where}: pull one in a click.", entries)

    def _models_listed(self, listing: tuple[Any, list[tuple[Any, Any]]]) -> None:
        """The installed models, each judged against this machine (Controller.fit_models)."""
        resources, judged = listing
        infos = [info for info, _verdict in judged]
        names = [i.name for i in infos]
        model = self.model or (self.conv.model if self.conv is not None else "") or self.settings.model
        if not model:
            backend = self.controller.backend
            if backend is not None and backend.kind == "embedded" and EMBEDDED_DEFAULT_MODEL in names:
                model = EMBEDDED_DEFAULT_MODEL
            elif names:
                model = names[0]
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
            self.status_text = "Offline"

    def _storage_failed(self, exc: BaseException) -> None:
        self.show_problem(describe_error(exc))

    # -- model management -----------------------------------------------------------------------------
    def pull(self, name: str) -> None:
        info = self.ids.info
        if self.pull_cancel is not None:
            return
        info.pull_progress(f"Pulling {name}…", 0.0)

        def progress(p: Any) -> None:
            status = f"{name}: {p.status}"
            if p.total:  # downloading a layer: how much of it, as people read sizes
                status += f"  ·  {human_size(p.completed or 0)} of {human_size(p.total)} ({p.fraction:.0%})"
            info.pull_progress(status, p.fraction)

        def done(error: BaseException | None, cancelled: bool) -> None:
            self.pull_cancel = None
            if cancelled:
                info.pull_finished(f"Pull of {name} cancelled.")
            elif error is not None:
                info.pull_finished(str(error))
                self.show_problem(describe_error(error))
            else:
                info.pull_finished(f"{name} is ready.")
                self.refresh_models()

        self.pull_cancel = self.controller.pull(name, progress, done)

    def delete_model(self, name: str) -> None:
        def deleted(_r: Any) -> None:
            self.ids.info.pull_status = f"Deleted {name}."
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
            bench.run_finished("Connect to a server and pick a model first.")
            return
        cancel = threading.Event()
        self.bench_cancel = cancel
        bench.run_progress(0, 1)
        bench.status = f"Starting the built-in suite on {self.model}…"
        model, home = self.model, self.settings.home

        def progress(done: int, total: int) -> None:
            Clock.schedule_once(lambda _dt: bench.run_progress(done, total), 0)

        def work() -> tuple[Any, list[Any]]:
            outcome = run_builtin_suite(backend, home, model, progress, cancel, limit)
            return outcome, run_failures(outcome)  # read here, off the window's thread

        def finished(done: tuple[Any, list[Any]]) -> None:
            outcome, failures = done
            self.bench_cancel = None
            if outcome.status == "complete":
                p1 = outcome.summary.pass1
                score = (
                    f"pass@1 {100 * p1.value:.0f}% [{100 * p1.low:.0f}, {100 * p1.high:.0f}]"
                    if p1
                    else "scored"
                )
                bench.run_finished(f"Run complete on {model}: {score}. Reports written to data/benchmarks/.")
                bench.show_run(outcome.summary, failures)
            elif outcome.status == "interrupted":
                bench.run_finished(
                    "Run cancelled; it can be resumed with `python main_benchmark.py run --resume`."
                )
            else:
                bench.run_finished(str(outcome.error))
            self.reload_board()

        def failed(exc: BaseException) -> None:
            self.bench_cancel = None
            bench.run_finished(describe_error(exc).message)

        limit = QUICK_PROBLEMS if bench.quick else None
        self.controller.run(work, finished, failed)

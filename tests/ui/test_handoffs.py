"""Every hand-off from a worker thread to the Kivy main thread goes through the controller's ``post``
(issue #11 §9): no code that a worker thread runs in ui/ calls Kivy's Clock (schedule_once, a trigger made
with create_trigger, ...) or ``mainthread`` itself; only ui/controller.py does, inside ``post``.

What a worker runs is found in the source: the ``target`` of a ``threading.Thread``, the work given to
``controller.run(work, ...)``, then every function those name (called, or handed on: a progress callback
passed to a function that runs on the worker), except what they hand to ``post(...)``, which runs on the
main thread. A static scan covers every path, also those no test drives (a native file dialog, a benchmark
progress line)."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UI = ROOT / "ui"
# The one module allowed to touch the Clock from a worker: it is where post lives.
CONTROLLER = "ui/controller.py"
# Known exceptions, each with its reason; the list may shrink, never grow unnoticed (the test compares it).
KNOWN: set[tuple[str, str]] = set()
FunctionNode = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def _is_post(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "post") or (
        isinstance(func, ast.Attribute) and func.attr == "post"
    )


def _is_controller_run(call: ast.Call) -> bool:
    func = call.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "run"
        and ast.unparse(func.value).split(".")[-1] == "controller"
    )


def _is_thread(call: ast.Call) -> bool:
    func = call.func
    return (isinstance(func, ast.Name) and func.id == "Thread") or (
        isinstance(func, ast.Attribute) and func.attr == "Thread"
    )


def _name_of(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if (
        isinstance(node, ast.Attribute)
        and isinstance(node.value, ast.Name)
        and node.value.id in ("self", "cls")
    ):
        return node.attr
    return None


def _walk_outside_post(node: ast.AST):
    """The nodes under ``node``, leaving out the arguments of post(...) calls (they run on the main thread)."""
    stack = list(ast.iter_child_nodes(node))
    while stack:
        child = stack.pop()
        yield child
        if isinstance(child, ast.Call) and _is_post(child):
            stack.append(child.func)
            continue
        stack.extend(ast.iter_child_nodes(child))


def main_thread_calls_from_workers(source: str) -> list[tuple[str, int, str]]:
    """(function, line, call) for each Clock / mainthread / Clock-trigger call that a worker thread runs."""
    tree = ast.parse(source)
    defs: dict[str, list[FunctionNode]] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            defs.setdefault(node.name, []).append(node)
    # self.x = Clock.create_trigger(...): calling self.x() later fires the Clock
    triggers = set()
    for node in ast.walk(tree):
        call = node.value if isinstance(node, ast.Assign) else None
        if isinstance(call, ast.Call) and ast.unparse(call.func).startswith("Clock."):
            triggers.update(n for n in map(_name_of, node.targets) if n)

    def resolve(expr: ast.AST) -> list[FunctionNode]:
        if isinstance(expr, ast.Lambda):
            return [expr]
        name = _name_of(expr)
        return list(defs.get(name, [])) if name else []

    todo: list[FunctionNode] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        if _is_thread(node):
            todo += [f for kw in node.keywords if kw.arg == "target" for f in resolve(kw.value)]
        elif _is_controller_run(node) and node.args:
            todo += resolve(node.args[0])
    seen: set[int] = set()
    found = []
    while todo:
        fn = todo.pop()
        if id(fn) in seen:
            continue
        seen.add(id(fn))
        label = getattr(fn, "name", "<lambda>")
        body = fn.body if isinstance(fn.body, list) else [fn.body]
        for statement in body:
            for node in [statement, *_walk_outside_post(statement)]:
                if isinstance(node, ast.Call):
                    text = ast.unparse(node.func)
                    if text.startswith("Clock.") or text == "mainthread" or _name_of(node.func) in triggers:
                        found.append((label, node.lineno, text))
                if isinstance(node, ast.Name | ast.Attribute) and isinstance(node.ctx, ast.Load):
                    todo += resolve(node)  # called or handed on from the worker: runs there too
                if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                    pass  # a nested def runs only where it is named (seen through its name above)
    return found


def test_no_worker_thread_touches_the_clock_but_through_post() -> None:
    found = set()
    details = []
    for path in sorted(UI.glob("*.py")):
        rel = path.relative_to(ROOT).as_posix()
        if rel == CONTROLLER:
            continue
        for function, line, call in main_thread_calls_from_workers(path.read_text(encoding="utf-8")):
            found.add((rel, function))
            details.append(
                f"{rel}:{line} {function}() calls {call}() on a worker thread: use controller.post"
            )
    assert found - KNOWN == set(), "\n".join(details)
    assert KNOWN - found == set(), f"no longer needed in KNOWN, remove: {KNOWN - found}"


def test_no_ui_module_uses_mainthread() -> None:
    """kivy.clock.mainthread hides a hand-off from the scan above: the controller's post is the one way."""
    users = [
        p.relative_to(ROOT).as_posix()
        for p in sorted(UI.rglob("*.py"))
        if "mainthread" in p.read_text(encoding="utf-8")
    ]
    assert users == []


def test_the_scan_finds_a_hand_off_that_bypasses_post() -> None:
    """The scan itself: the shapes it must catch (a thread target, a progress callback handed to work run by
    the controller, a method a thread runs, a Clock trigger) and the one it must allow (post)."""
    source = """
import threading
from kivy.clock import Clock

class Pump:
    def __init__(self):
        self._trigger = Clock.create_trigger(self._drain, 0)
    def start(self):
        threading.Thread(target=self._work).start()
    def _work(self):
        self._step()
    def _step(self):
        self._trigger()

def native(on_path, post):
    def work():
        Clock.schedule_once(lambda dt: on_path(1), 0)
    threading.Thread(target=work, daemon=True).start()

def bench(app, bar):
    def progress(done):
        Clock.schedule_once(lambda dt: bar.set(done), 0)
    def progress_ok(done):
        app.controller.post(lambda: Clock.schedule_once(lambda dt: bar.set(done), 0))
    def work():
        return run_suite(progress, progress_ok)
    app.controller.run(work, lambda r: Clock.schedule_once(lambda dt: bar.done(r), 0))
"""
    found = {(function, call) for function, _line, call in main_thread_calls_from_workers(source)}
    assert found == {
        ("_step", "self._trigger"),
        ("work", "Clock.schedule_once"),
        ("progress", "Clock.schedule_once"),
    }

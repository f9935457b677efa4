"""The judge: the trusted process where the test runs and the verdict is decided. No sample code runs here.

The test (``check``, the prompt's helpers, the standard modules it imports) runs with this interpreter's own
builtins and modules. ``candidate`` is an rpc.RemoteFunction: calling it sends the arguments to the sample's
process and returns what came back as plain data (exact built-in types, bounded size), or raises again the
built-in exception the sample raised. So whatever the sample does inside its own process, it can change only
what its own functions return.

The namespace the test sees:
- the prompt, executed here from the problem file (trusted): its imports and its complete helper functions
  (``poly``, ``encode_cyclic``), which the sample cannot redefine;
- for each function the prompt only declares (a docstring, ``pass`` or ``...`` as body), the entry point
  first, the sample's function of that name, as a proxy (the prompt's other helpers calling it by name reach
  the proxy too);
- names the test uses that only the sample defines: its functions as proxies, its other values as copies;
  never a name of a built-in (a sample's ``abs`` or ``all`` does not shadow the test's).

The verdict (a small JSON record on ``verdict_fd``): passed only when the test ran to the end and the sample
never broke the protocol, died, aborted (SystemExit ...) or ran out of time, even if the test caught that.
"""

from __future__ import annotations

import _ast
import builtins
import os
import sys
import time

from core.benchmark.harness import rpc, seccomp
from core.benchmark.harness.control import open_inherited, recv_message, send_message
from core.benchmark.harness.rpc import Peer, RemoteFunction, SampleBroke
from core.benchmark.harness.wire import (
    MAX_INT_DIGITS,
    SAFE_BUILTINS,
    Bad,
    plain_json,
    read_json,
    write_frame,
)

__all__ = ["enter", "judge", "run_cold", "serve_zygote", "trusted_prompt"]

PRELOAD = (
    "typing", "math", "re", "collections", "itertools", "functools", "heapq", "bisect", "string", "random",
    "hashlib", "fractions", "decimal", "statistics", "operator", "copy"
)  # fmt: skip
_SYNTAX = frozenset(("SyntaxError", "IndentationError", "TabError"))


def _verdict(passed: bool, result: str, reason: str) -> dict:
    return {"passed": passed, "result": result, "reason": reason}


def _is_stub(node) -> bool:
    """A function the prompt declares without a body: docstring, pass, ``...`` or raise NotImplementedError."""
    if not isinstance(node, (_ast.FunctionDef, _ast.AsyncFunctionDef)):
        return False
    for statement in node.body:
        if isinstance(statement, _ast.Pass):
            continue
        if isinstance(statement, _ast.Expr) and isinstance(statement.value, _ast.Constant):
            continue  # docstring, or a bare ...
        if isinstance(statement, _ast.Raise):
            continue
        return False
    return True


def trusted_prompt(prompt: str) -> tuple[dict, set[str]]:
    """The prompt executed here (its imports and helpers) and the names of the functions it only declares.

    A prompt that does not run as a whole (a custom problem whose prompt stops mid-statement) contributes the
    top-level statements that do."""
    namespace: dict = {}
    if not prompt.strip():
        return namespace, set()
    try:
        tree = compile(prompt, "<prompt>", "exec", _ast.PyCF_ONLY_AST)  # ast.parse, without importing ast
    except (SyntaxError, ValueError):
        try:
            tree = compile(prompt + "\n    pass\n", "<prompt>", "exec", _ast.PyCF_ONLY_AST)
        except (SyntaxError, ValueError):
            return namespace, set()
    stubs = {node.name for node in tree.body if _is_stub(node)}
    try:
        exec(compile(tree, "<prompt>", "exec"), namespace)
    except BaseException:
        namespace = {}
        for node in tree.body:
            try:
                exec(compile(_ast.Module(body=[node], type_ignores=[]), "<prompt>", "exec"), namespace)
            except BaseException:
                continue
    return namespace, stubs


def _names_used(code) -> set[str]:
    names, stack = set(), [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(const for const in current.co_consts if isinstance(const, type(code)))
    return names


def _sample_error(text: str, base: str) -> tuple[str, str]:
    """(result, reason) for an exception the code under test raised."""
    reason = "resource limit" if base == "MemoryError" else "exception"
    return f"failed: {text}", reason


def _describe(error: BaseException) -> str:
    try:
        detail = str(error)
    except BaseException:
        detail = "<unprintable>"
    name = type(error).__qualname__
    return (f"{name}: {detail}" if detail else name)[:1000]


def _broke(error: SampleBroke) -> dict:
    if error.reason == "timeout":
        return _verdict(False, "timed out", "timeout")
    if error.reason == "ended":
        return _verdict(False, f"failed: {error}", "ended")
    return _verdict(False, f"failed: {error}", "exception")


def _function(value) -> bool:
    """A function the sample defined: a proxy, or a pure built-in it bound by name (``f = max``), which the
    codec sends as the name and this side resolves to its own built-in (nothing of the sample's runs)."""
    if isinstance(value, RemoteFunction):
        return True
    name = getattr(value, "__name__", None)
    return name in SAFE_BUILTINS and getattr(builtins, name, None) is value


def judge(setup: dict, peer: Peer) -> dict:
    """Load the program in the sample's process, run the test here, return the verdict record."""
    try:
        test_code = compile(setup.get("test", ""), "<test>", "exec")
    except (SyntaxError, ValueError) as error:
        return _verdict(
            False, f"failed: the problem's test does not compile ({_describe(error)})", "exception"
        )
    try:
        reply = peer.request(("load", setup.get("program", "")), fast=True)
        if reply[0] == "loaderror" and len(reply) == 2:
            rpc.rebuild_error(reply[1])  # a malformed or aborting error raises SampleBroke here
            base, _name, _args, text = reply[1]
            if base in _SYNTAX:
                return _verdict(False, f"failed: {text}", "syntax error")
            return _verdict(False, *_sample_error(text, base))
        if reply[0] != "ready" or len(reply) != 3 or type(reply[1]) is not dict or type(reply[2]) is not list:
            raise SampleBroke("the code under test broke the protocol while loading")
        functions, values = reply[1], reply[2]
        if not all(type(k) is str and _function(v) for k, v in functions.items()):
            raise SampleBroke("the code under test broke the protocol while loading")
        if not all(type(name) is str for name in values):
            raise SampleBroke("the code under test broke the protocol while loading")
        for name, proxy in functions.items():
            if isinstance(proxy, RemoteFunction):
                proxy.__name__ = proxy.__qualname__ = name
        entry_point = setup.get("entry_point", "")
        if entry_point and entry_point not in functions:
            what = "defines but not as a function" if entry_point in values else "does not define"
            return _verdict(False, f"failed: NameError: the code {what} {entry_point!r}", "missing function")
        namespace = _namespace(setup.get("prompt", ""), test_code, functions, values, entry_point, peer)
        exec(test_code, namespace)
        if entry_point:
            check = namespace.get("check")
            if check is None:
                return _verdict(
                    False, "failed: NameError: the problem's test defines no check()", "exception"
                )
            check(functions[entry_point])
    except SampleBroke as error:
        return _broke(error)
    except BaseException as error:
        if rpc.BROKEN:
            return _broke(rpc.BROKEN[0])
        sample_text = getattr(error, "ia_sample_error", None)
        if isinstance(sample_text, str):
            base = type(error).__name__
            return _verdict(False, *_sample_error(sample_text, base))
        if isinstance(error, AssertionError):
            return _verdict(False, f"failed: {_describe(error)}", "assertion")
        return _verdict(False, f"failed: {_describe(error)}", "exception")
    if rpc.BROKEN:  # the test caught it, but it still happened
        return _broke(rpc.BROKEN[0])
    return _verdict(True, "passed", "passed")


def _namespace(prompt, test_code, functions, values, entry_point, peer: Peer) -> dict:
    trusted, stubs = trusted_prompt(prompt)
    used = _names_used(test_code)
    shadowing = set(builtins.__dict__)
    namespace = (
        trusted  # the prompt's own globals: its helpers calling the entry point by name reach the proxy
    )
    for name, proxy in functions.items():
        if name in shadowing:
            continue
        if name == entry_point or name in stubs or (name in used and name not in trusted):
            namespace[name] = proxy
    for name in values:
        if name in used and name not in trusted and name not in shadowing and name not in functions:
            reply = peer.request(("get", name))
            if reply[0] == "ok" and len(reply) == 3:
                namespace[name] = reply[1]
            elif reply[0] == "exc" and len(reply) == 2:
                raise rpc.rebuild_error(reply[1])
            else:
                raise SampleBroke("the code under test broke the protocol")
    return namespace


class _Sink:
    def write(self, text):
        return len(text)

    def flush(self):
        pass

    def isatty(self):
        return False


def _judge_main(setup: dict, to_sample: int, from_sample: int, verdict_fd: int, forked: bool = False) -> None:
    """Run the judge; write the verdict; never returns. A judge forked from the zygote inherits its
    non-dumpable state."""
    if not forked:
        seccomp.make_undumpable()
    sys.stdout = sys.stderr = _Sink()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd != verdict_fd:
            os.dup2(devnull, fd)
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(MAX_INT_DIGITS)
    try:
        import resource

        cpu = int(setup.get("timeout", 3.0)) + 3
        resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    except (ImportError, ValueError, OSError):
        pass
    deadline = time.monotonic() + float(setup.get("timeout", 3.0))
    peer = Peer(from_sample, to_sample, trusting=False, deadline=deadline)
    try:
        verdict = judge(setup, peer)
    except BaseException as error:  # a bug of ours must still give a verdict, and never a pass
        verdict = _verdict(False, f"failed: the judge failed ({_describe(error)})", "exception")
    try:
        peer.send(("bye",))
    except BaseException:
        pass
    write_frame(verdict_fd, plain_json(verdict))
    os._exit(0)


def run_cold(boot: dict) -> None:
    """Entry point of a one-sample judge: pipe ends to the sample in ``boot['fds']``, verdict on stdout."""
    to_sample, from_sample = (open_inherited(value) for value in boot["fds"])
    verdict_fd = os.dup(1)
    _judge_main(boot["setup"], to_sample, from_sample, verdict_fd)


def _read_verdict_frame(fd: int):
    """The judge's verdict frame (4-byte length + JSON), or None when it ended without one."""
    data = b""
    while len(data) < 4 or len(data) < 4 + int.from_bytes(data[:4], "big"):
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return None
        data += chunk
    try:
        return read_json(data[4 : 4 + int.from_bytes(data[:4], "big")])
    except Bad:
        return None


def serve_zygote(boot: dict) -> None:
    """Batch mode: fork a judge per request from the host and answer with its verdict."""
    import socket

    seccomp.make_undumpable()
    for name in (*PRELOAD, "resource"):
        try:
            __import__(name)
        except ImportError:
            pass
    control = socket.socket(fileno=boot["control"])
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    while True:
        message = recv_message(control)
        if message is None:
            os._exit(0)
        setup, fds = message
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            control.close()
            os.close(read_end)
            _judge_main(setup, fds[0], fds[1], write_end, forked=True)
        os.close(write_end)
        for fd in fds:
            os.close(fd)
        verdict = _read_verdict_frame(read_end)  # one frame: no need to wait for the judge's exit
        os.close(read_end)
        if not isinstance(verdict, dict):
            verdict = _verdict(False, "failed: the judge ended without a verdict", "exception")
        send_message(control, verdict)
        os.waitpid(pid, 0)


def enter(boot: dict) -> None:
    """Entry point from the boot code (harness/__init__.py): a zygote or a one-sample process."""
    if boot.get("role") == "judge-zygote":
        serve_zygote(boot)
    else:
        run_cold(boot)

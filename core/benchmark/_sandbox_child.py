"""Harness run by the sandboxed interpreter (``python -I -S -c <this source> [zygote FD]``); never imported.

Protocol: the parent writes frames on stdin, each 4 bytes big-endian length + ``marshal.dumps((nonce, code,
test, entry_point, verdict_fd, limits, preload, proc_guard))``. Single mode: one frame; the harness sets the
limits, runs ``code`` (prompt + completion), then ``test`` and ``check(candidate)``, and writes ``nonce + b"P"``
(passed) or ``nonce + b"F" + reason`` to ``verdict_fd`` only after ``check`` returned. Zygote mode (batch
evaluation): the harness forks a fresh child per frame, which does exactly the same with a pipe of its own,
then kills what the child left, wipes the working directory and answers the parent with a frame of
marshal((verdict bytes, exit status, clean)).

Defences inside the interpreter: the nonce lives only in locals of ``run`` (defined in a private namespace with
a private copy of builtins); an audit hook installed before the sample runs forbids every route to another
frame, to memory or to new programs (sys._getframe, tb_frame/gi_frame/cr_frame, gc.get_objects/referrers,
settrace, ctypes, exec, native code from outside the interpreter's directories, /proc); the values returned by
the candidate and by the sample's helper functions are copied through marshal, which accepts exact built-in
types only (so objects whose ``__eq__`` is always true never reach the test); the test runs in its own
namespace with a pristine copy of builtins and of the standard modules it imports, so patching builtins or
``math`` changes nothing.
"""

import builtins
import marshal
import os
import resource
import sys


def _read_exact(fd, size):
    """Exactly ``size`` bytes from ``fd``, or None at end of file."""
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def _read_frame(fd):
    """One length-prefixed frame (4 bytes big-endian + body) from the parent, or None when it hung up."""
    header = _read_exact(fd, 4)
    if header is None:
        return None
    return _read_exact(fd, int.from_bytes(header, "big"))


def _detach_stdin():
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.close(devnull)


def _set_limits(limits):
    names = {
        "as": resource.RLIMIT_AS,
        "cpu": resource.RLIMIT_CPU,
        "fsize": resource.RLIMIT_FSIZE,
        "nofile": resource.RLIMIT_NOFILE,
        "nproc": resource.RLIMIT_NPROC,
        "core": resource.RLIMIT_CORE,
    }
    for key, value in limits.items():
        if value is not None:
            # CPU: SIGXCPU at the soft limit (reported as a timeout), SIGKILL one second later.
            resource.setrlimit(names[key], (value, value + 1 if key == "cpu" else value))


# Everything below is compiled into private namespaces that no object reachable from user code refers to.
_HOOK_SOURCE = """
def make_hook(proc_guard, code_dirs):
    frame_attrs = frozenset(("tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back", "f_locals", "f_globals"))
    denied_events = frozenset(("sys._current_frames", "sys.settrace", "sys.setprofile", "gc.get_objects",
                               "gc.get_referrers", "gc.get_referents", "os.exec", "os.posix_spawn",
                               "os.spawn", "os.system", "subprocess.Popen", "os.startfile", "pty.spawn"))
    denied_modules = frozenset(("ctypes", "_ctypes", "_posixsubprocess", "_xxsubinterpreters",
                                "_xxinterpchannels", "_testcapi", "_testinternalcapi"))

    def hook(event, args):
        if event == "sys._getframe":
            raise ValueError("call stack is not inspectable in the sandbox")
        if event in denied_events or event.startswith("ctypes."):
            raise PermissionError("blocked by the benchmark sandbox: " + event)
        if event == "object.__getattr__" and args[1] in frame_attrs:
            raise PermissionError("blocked by the benchmark sandbox: frame access")
        if event == "import" and args[0].partition(".")[0] in denied_modules:
            raise ImportError("module " + args[0] + " is blocked by the benchmark sandbox")
        if event == "import" and isinstance(args[1], str) and not args[1].startswith(code_dirs):
            raise ImportError("loading code from " + args[1] + " is blocked by the benchmark sandbox")
        if event == "open" and proc_guard and isinstance(args[0], (str, bytes)):
            path = args[0].decode("utf-8", "replace") if isinstance(args[0], bytes) else args[0]
            if "proc" in path:
                raise PermissionError("blocked by the benchmark sandbox: /proc")

    return hook
"""

_SINK_SOURCE = '''
class Sink:
    """Swallows output like the reference harness; refuses reads."""

    encoding = "utf-8"
    errors = "strict"

    def write(self, text):
        return len(text)

    def writelines(self, lines):
        pass

    def flush(self):
        pass

    def read(self, *args):
        raise OSError("stdin is closed in the benchmark sandbox")

    readline = read
    readlines = read

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True
'''

_RUN_SOURCE = """
def run(nonce, code, test, entry_point, verdict_fd, write, exit_now, dumps, loads, test_builtins, snapshots):
    iterator_types = (type(iter(())), type(iter([])), type(map(len, ())), type(filter(None, ())),
                      type(zip()), type(reversed([])), type(enumerate(())), type(x for x in ()))

    def clean(value):
        kind = type(value)
        if kind in iterator_types:
            return (clean(item) for item in value)
        try:
            return loads(dumps(value))
        except (ValueError, TypeError, RecursionError):
            raise TypeError("the candidate returned an object of type %r, which is not a plain built-in "
                            "value" % (kind.__qualname__,)) from None

    def guard(function):
        def candidate(*args, **kwargs):
            return clean(function(*args, **kwargs))
        return candidate

    function_type = type(guard)

    real_import = test_builtins["__import__"]

    def pristine_import(name, globals=None, locals=None, fromlist=(), level=0):
        module = real_import(name, globals, locals, fromlist, level)
        copy = snapshots.get(module.__name__) if level == 0 else None
        return copy if copy is not None else module

    test_builtins["__import__"] = pristine_import

    def describe(error):
        try:
            text = str(error)
        except BaseException:
            text = "<unprintable>"
        try:
            name = type(error).__qualname__
        except BaseException:
            name = "BaseException"
        if not isinstance(name, str):
            name = "BaseException"
        return (name + ": " + text)[:1000] if text else name

    try:
        user = {}
        exec(compile(code, "<sample>", "exec"), user)
        if test:
            # Functions of the sample that the test calls directly (helpers from the prompt, which the sample
            # may redefine) get the same plain-value check on their results as the candidate.
            names = {key: guard(value) if type(value) is function_type else value
                     for key, value in user.items() if key != "__builtins__"}
            names["__builtins__"] = test_builtins
            names["__name__"] = "__check__"
            exec(compile(test, "<test>", "exec"), names)
            if entry_point:
                if entry_point not in user:
                    raise NameError("the code does not define %r" % (entry_point,))
                names["check"](guard(user[entry_point]))
        verdict = b"P"
    except BaseException as error:
        verdict = b"F" + describe(error).encode("utf-8", "replace")
    write(verdict_fd, nonce + verdict)
    exit_now(0)
"""


_TEST_MODULES = frozenset(
    (
        "math",
        "random",
        "re",
        "string",
        "itertools",
        "functools",
        "collections",
        "heapq",
        "bisect",
        "hashlib",
        "typing",
        "fractions",
        "decimal",
        "statistics",
        "operator",
        "copy",
    )
)


def _import_test_modules(test):
    """Import the standard modules the test names before the sample runs, so their snapshot is pristine."""
    try:
        code = compile(test, "<test>", "exec")
    except (SyntaxError, ValueError):
        return
    names, stack = set(), [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(const for const in current.co_consts if isinstance(const, type(code)))
    for name in names & _TEST_MODULES:
        try:
            __import__(name)
        except ImportError:
            pass


def _snapshot_modules(builtin_copy):
    """Fresh module objects with a copy of each loaded module's namespace, for the test's imports."""
    module_type = type(sys)
    snapshots = {}
    for name in sorted(_TEST_MODULES | {"sys", "os"}):
        module = sys.modules.get(name)
        if module is not None:
            copy = module_type(name)
            copy.__dict__.update(module.__dict__)
            snapshots[name] = copy
    return snapshots


def _prepare():
    """Everything that does not depend on the sample, done before it arrives (so prewarmed harnesses are fast)."""
    import types  # noqa: F401  (reads tb_frame while loading, which the hook forbids later)

    state = {"write": os.write, "exit_now": os._exit, "dumps": marshal.dumps, "loads": marshal.loads}
    private = {"__builtins__": dict(builtins.__dict__)}
    exec(_RUN_SOURCE, private)
    state["run"] = private.pop("run")
    sink_ns = {}
    exec(_SINK_SOURCE, sink_ns)
    state["sink"] = sink_ns["Sink"]()
    hook_ns = {"__builtins__": dict(builtins.__dict__)}
    exec(_HOOK_SOURCE, hook_ns)
    state["make_hook"] = hook_ns.pop("make_hook")
    return state


def _run_sample(state, frame, verdict_fd):
    """Arm the limits and the guard, then run the sample; never returns (the harness exits after its verdict)."""
    nonce, code, test, entry_point, _, limits, preload, proc_guard = marshal.loads(frame)
    del frame
    for name in preload:
        try:
            __import__(name)
        except ImportError:
            pass
    _import_test_modules(test)
    test_builtins = dict(builtins.__dict__)
    snapshots = _snapshot_modules(test_builtins)
    os.environ.clear()
    _set_limits(limits)
    sink = state["sink"]
    sys.stdout = sys.stderr = sys.stdin = sys.__stdout__ = sys.__stderr__ = sys.__stdin__ = sink
    code_dirs = tuple(path.rstrip("/") + "/" for path in sys.path if path.startswith("/"))
    sys.addaudithook(state["make_hook"](proc_guard, code_dirs))
    run, write, exit_now, dumps, loads = (state[k] for k in ("run", "write", "exit_now", "dumps", "loads"))
    state.clear()
    run(nonce, code, test, entry_point, verdict_fd, write, exit_now, dumps, loads, test_builtins, snapshots)


def _kill_leftovers():
    """Kill every other process of this sandbox's uid (kill(-1) spares only the caller and PID 1) until none."""
    import signal
    import time

    for _ in range(500):
        try:
            os.kill(-1, signal.SIGKILL)
            os.kill(-1, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return True
        time.sleep(0.002)
    return False


def _wipe(path):
    import shutil

    for entry in os.scandir(path):
        try:
            if entry.is_dir(follow_symlinks=False):
                os.chmod(entry.path, 0o700)
                shutil.rmtree(entry.path, onerror=lambda fn, p, exc: (os.chmod(p, 0o700), fn(p)))
            else:
                os.unlink(entry.path)
        except OSError:
            return False
    return True


def _serve(state, verdict_fd):
    """Zygote: fork a fresh harness for every sample frame; after each, kill what it left and wipe the cwd.

    The parent reads one frame per sample on ``verdict_fd``: 4-byte length + marshal((verdict bytes, exit
    status, clean)); ``clean`` False means the zygote is about to exit and must not be given another sample.
    The zygote never runs sample code itself and stops (the parent starts a new one) if clean-up fails.
    """
    cwd = os.getcwd()
    while True:
        frame = _read_frame(0)
        if frame is None:
            return
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:
            _detach_stdin()
            os.closerange(3, write_end)
            os.closerange(write_end + 1, 1 << 16)
            _run_sample(state, frame, write_end)
        os.close(write_end)
        del frame
        _, status = os.waitpid(pid, 0)
        clean = _kill_leftovers()
        os.set_blocking(read_end, False)
        try:
            data = os.read(read_end, 1 << 16)
        except BlockingIOError:
            data = b""
        os.close(read_end)
        clean = _wipe(cwd) and clean
        returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        reply = marshal.dumps((data, returncode, clean))
        os.write(verdict_fd, len(reply).to_bytes(4, "big") + reply)
        if not clean:
            return


def _main():
    state = _prepare()
    if sys.argv[1:2] == ["zygote"]:
        _serve(state, int(sys.argv[2]))
        os._exit(0)
    frame = _read_frame(0)
    _detach_stdin()
    if frame is None:
        os._exit(1)
    _run_sample(state, frame, marshal.loads(frame)[4])


_main()

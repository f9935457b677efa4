"""The sample's side: the only process where generated code runs. It can change nothing but what its own
functions return to the judge.

Before the sample arrives the harness detaches its standard streams, empties the environment, becomes the
leader of a session of its own, applies the limits (rlimits on POSIX, a Job Object on Windows) and, on Linux,
confines itself with Landlock (harness/landlock.py: its working directory, the interpreter's files, a few
devices) and installs the seccomp filter (harness/seccomp.py): from then on it cannot start a process or a program, signal
or trace another process, or keep anything alive after it ends. Then it serves the judge (rpc.Peer): the first
request loads the program, the others call its functions.

Cold mode (``run_cold``): one process per sample, started by the host with the two pipe ends to the judge.
Zygote mode (``serve_zygote``, batch evaluation under bwrap): a long-lived process that never runs sample code
forks one child per sample with the pipe ends the host passes over a Unix socket; after each child it kills
whatever the child left and empties the working directory, and says whether that worked.
"""

from __future__ import annotations

import os
import sys

from core.benchmark.harness import landlock, seccomp
from core.benchmark.harness.control import open_inherited, recv_message, send_message
from core.benchmark.harness.rpc import Peer, recursion_headroom
from core.benchmark.harness.wire import MAX_INT_DIGITS

__all__ = [
    "EXIT_LANDLOCK",
    "EXIT_LIMITS",
    "EXIT_SECCOMP",
    "apply_limits",
    "enter",
    "run_cold",
    "serve_zygote",
]

EXIT_SECCOMP = 71  # seccomp was asked for and could not be installed: nothing ran
EXIT_LIMITS = 72  # the limits asked for could not be applied: nothing ran
EXIT_LANDLOCK = 73  # Landlock was asked for and could not be applied: nothing ran
PRELOAD = (
    "typing",
    "math",
    "re",
    "collections",
    "itertools",
    "functools",
    "heapq",
    "bisect",
    "string",
    "resource",
)


class Sink:
    """Standard streams of the sample: writes vanish, reads fail."""

    encoding = "utf-8"
    errors = "strict"

    def write(self, text):
        return len(text)

    def writelines(self, lines):
        pass

    def flush(self):
        pass

    def read(self, *args):
        raise OSError("standard input is closed in the benchmark sandbox")

    readline = read
    readlines = read

    def isatty(self):
        return False

    def readable(self):
        return False

    def writable(self):
        return True

    def fileno(self):
        raise OSError("no file descriptor")


def apply_limits(limits: dict) -> list[str]:
    """Apply the limits to this process; returns the ones that could not be applied."""
    missing = []
    try:
        import resource
    except ImportError:
        resource = None
    if resource is not None:
        names = {
            "as": "RLIMIT_AS",
            "cpu": "RLIMIT_CPU",
            "fsize": "RLIMIT_FSIZE",
            "nofile": "RLIMIT_NOFILE",
            "nproc": "RLIMIT_NPROC",
            "core": "RLIMIT_CORE",
        }
        for key, value in limits.items():
            if value is None or key not in names:
                continue
            which = getattr(resource, names[key], None)
            if which is None:
                missing.append(key)
                continue
            try:
                # CPU: SIGXCPU at the soft limit (a timeout), SIGKILL one second later.
                resource.setrlimit(which, (value, value + 1 if key == "cpu" else value))
            except (ValueError, OSError):
                missing.append(key)
        return missing
    if os.name == "nt":
        return [] if _windows_job(limits) else ["job"]
    return [key for key, value in limits.items() if value is not None]


def _windows_job(limits: dict) -> bool:
    """Put this process in a Job Object: one process only, memory and CPU time capped, killed with the job."""
    try:
        import ctypes
        from ctypes import wintypes
    except ImportError:
        return False

    class Basic(ctypes.Structure):
        _fields_ = [
            ("PerProcessUserTimeLimit", ctypes.c_int64),
            ("PerJobUserTimeLimit", ctypes.c_int64),
            ("LimitFlags", wintypes.DWORD),
            ("MinimumWorkingSetSize", ctypes.c_size_t),
            ("MaximumWorkingSetSize", ctypes.c_size_t),
            ("ActiveProcessLimit", wintypes.DWORD),
            ("Affinity", ctypes.c_size_t),
            ("PriorityClass", wintypes.DWORD),
            ("SchedulingClass", wintypes.DWORD),
        ]

    class Extended(ctypes.Structure):
        _fields_ = [
            ("BasicLimitInformation", Basic),
            ("IoInfo", ctypes.c_uint64 * 6),
            ("ProcessMemoryLimit", ctypes.c_size_t),
            ("JobMemoryLimit", ctypes.c_size_t),
            ("PeakProcessMemoryUsed", ctypes.c_size_t),
            ("PeakJobMemoryUsed", ctypes.c_size_t),
        ]

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return False
    info = Extended()
    flags = 0x8 | 0x400 | 0x2000  # ACTIVE_PROCESS, DIE_ON_UNHANDLED_EXCEPTION, KILL_ON_JOB_CLOSE
    info.BasicLimitInformation.ActiveProcessLimit = 1
    if limits.get("as"):
        flags |= 0x100  # PROCESS_MEMORY
        info.ProcessMemoryLimit = limits["as"]
        info.JobMemoryLimit = limits["as"]
        flags |= 0x200  # JOB_MEMORY
    if limits.get("cpu"):
        flags |= 0x2  # PROCESS_TIME (100 ns units)
        info.BasicLimitInformation.PerProcessUserTimeLimit = int(limits["cpu"] * 10_000_000)
    info.BasicLimitInformation.LimitFlags = flags
    if not kernel32.SetInformationJobObject(job, 9, ctypes.byref(info), ctypes.sizeof(info)):
        return False
    return bool(kernel32.AssignProcessToJobObject(job, kernel32.GetCurrentProcess()))


def _detach_streams() -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        try:
            os.dup2(devnull, fd)
        except OSError:
            pass
    if devnull > 2:
        os.close(devnull)
    sys.stdout = sys.stderr = sys.stdin = sys.__stdout__ = sys.__stderr__ = sys.__stdin__ = Sink()


def _close_others(keep: tuple[int, ...]) -> None:
    if os.name != "posix":
        return
    low = 3
    for fd in sorted(keep):
        if fd >= low:
            os.closerange(low, fd)
            low = fd + 1
    os.closerange(low, 1 << 16)


def _sample_main(setup: dict, read_fd: int, write_fd: int) -> None:
    """Arm every limit, then serve the judge until it says bye or hangs up; never returns."""
    if hasattr(os, "setsid"):
        try:
            os.setsid()
        except OSError:
            pass  # already a session leader (cold mode starts one)
    _detach_streams()
    _close_others((read_fd, write_fd))
    os.environ.clear()
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(MAX_INT_DIGITS)
    if setup.get("cwd"):
        os.chdir(setup["cwd"])
    if apply_limits(setup.get("limits") or {}) and setup.get("require_limits"):
        os._exit(EXIT_LIMITS)
    if setup.get("landlock"):
        readable = [*sys.path, sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix]
        if landlock.restrict([path for path in readable if path], [os.getcwd()]):
            os._exit(EXIT_LANDLOCK)
    if setup.get("seccomp") and seccomp.install():
        os._exit(EXIT_SECCOMP)
    # The code under test gets the interpreter's default depth, counted from where it is called.
    sys.setrecursionlimit(1000 + recursion_headroom())
    peer = Peer(read_fd, write_fd, trusting=True)
    try:
        peer.serve()
    except BaseException:
        pass
    os._exit(0)


def run_cold(boot: dict) -> None:
    """Entry point of a one-sample harness (started by the host with the pipe ends in ``boot['fds']``)."""
    read_fd, write_fd = (open_inherited(value) for value in boot["fds"])
    _sample_main(boot["setup"], read_fd, write_fd)


def _preload() -> None:
    for name in PRELOAD:
        try:
            __import__(name)
        except ImportError:
            pass
    seccomp.prepare()  # ctypes, the C library and the filter's template, once, before any fork


def _kill_leftovers() -> bool:
    """Kill every other process of this sandbox's uid (kill(-1) spares the caller and PID 1) until none."""
    import signal
    import time

    for _ in range(500):
        try:
            os.kill(-1, signal.SIGKILL)
            os.kill(-1, 0)
        except (ProcessLookupError, PermissionError):
            return True
        time.sleep(0.002)
    return False


def _wipe(path: str) -> bool:
    """Empty ``path`` (what a sample wrote), making read-only directories writable first."""
    import shutil

    def retry(function, target, _error):
        os.chmod(os.path.dirname(target), 0o700)
        function(target)

    try:
        entries = list(os.scandir(path))
    except OSError:
        return False
    for entry in entries:
        try:
            if entry.is_dir(follow_symlinks=False):
                os.chmod(entry.path, 0o700)
                shutil.rmtree(entry.path, onerror=retry)
            else:
                os.unlink(entry.path)
        except OSError:
            return False
    try:
        return not os.listdir(path)
    except OSError:
        return False


def serve_zygote(boot: dict) -> None:
    """Batch mode: fork a fresh sample process per request from the host; never runs sample code itself."""
    import socket

    seccomp.make_undumpable()
    _preload()
    control = socket.socket(fileno=boot["control"])
    _detach_streams()
    cwd = os.getcwd()
    while True:
        message = recv_message(control)
        if message is None:
            os._exit(0)
        setup, fds = message
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        pid = os.fork()
        if pid == 0:
            control.close()
            _sample_main(setup, fds[0], fds[1])
        for fd in fds:
            os.close(fd)
        _, status = os.waitpid(pid, 0)
        clean = _kill_leftovers()
        clean = _wipe(cwd) and clean
        code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        send_message(control, {"returncode": code, "clean": clean})
        if not clean:
            os._exit(0)


def enter(boot: dict) -> None:
    """Entry point from the boot code (harness/__init__.py): a zygote or a one-sample process."""
    if boot.get("role") == "sample-zygote":
        serve_zygote(boot)
    else:
        run_cold(boot)

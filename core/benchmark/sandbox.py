"""Run one piece of untrusted code plus its test in an isolated, limited, short-lived process.

Public API (the runner builds on this; see docs/INTERFACES.md, "core/benchmark (evaluation side)"):

    Limits(timeout_s=3.0, memory_mb=1024, cpu_s=None, nproc=64, fsize_mb=16, nofile=64, tmpfs_mb=64)
    SampleResult(passed: bool, result: str, duration_s: float, isolation: str)
    Sandbox.detect(level: str | None = None) -> Sandbox     # cached; IA_SANDBOX=bwrap|unshare|rlimits forces one
    sandbox.level  -> "bwrap" | "unshare" | "rlimits";  sandbox.python -> interpreter used inside
    sandbox.run(code, test="", entry_point="", limits=Limits()) -> SampleResult     # thread-safe
    with sandbox.prewarmed(workers): ...    # batch mode: per-worker long-lived sandboxes (bwrap only)
    sandbox_uid_range() -> range            # uids our sandboxes run under (tests look for leftovers)

Isolation, strongest first: ``bwrap`` (new user, PID, network, IPC and mount namespaces, read-only root,
private tmpfs /tmp as working directory, /home /root /work, the project, the working directory, $HOME
and IA_HOME hidden, no /proc, dies with its parent), ``unshare``
(user, PID and network namespaces, temporary working directory) and ``rlimits`` (limits only). At every level
the child runs ``python -I -S`` with an empty environment, under a fresh uid of its own when we are root (so
RLIMIT_NPROC applies and everything it leaves behind is killed by a kill(-1) sent as that uid), with limits
on address space, CPU, processes, file size and open files, and a wall-clock timeout. The verdict is the
nonce protocol of ``_sandbox_child.py``: printing "passed" or exiting 0 early never passes. Process clean-up,
uids and the zygote pool live in ``sandbox_host.py``.

Batch mode (``prewarmed``, used by evaluate_samples): each worker gets one bwrap sandbox whose harness
(a zygote that never runs sample code) forks a fresh child per sample; after each sample it kills every
process the sample left in the sandbox and wipes the working directory; on a timeout, a crash of the zygote
or a failed clean-up the whole sandbox is destroyed and replaced. Samples of one worker share the sandbox's
uid and namespaces one after the other, never at the same time.
"""

from __future__ import annotations

import contextlib
import math
import os
import secrets
import select
import shutil
import signal
import stat
import subprocess
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from core.benchmark.sandbox_host import (
    Child,
    ZygotePool,
    acquire_uid,
    frame,
    interpreter_candidates,
    kill_uid,
    read_reply,
    reap_namespace,
    sandbox_uid_range,
)
from core.errors import SandboxUnavailable

__all__ = [
    "ISOLATION_LEVELS",
    "REASONS",
    "Limits",
    "SampleResult",
    "Sandbox",
    "failure_reason",
    "sandbox_uid_range",
]

ISOLATION_LEVELS = ("bwrap", "unshare", "rlimits")
# Extra modules the harness imports before arming the audit hook (it always imports ``types``, which reads
# ``tb_frame`` while loading). Empty: anything else is imported only by code that needs it.
PRELOAD: tuple[str, ...] = ()
_CHILD_SOURCE = (Path(__file__).with_name("_sandbox_child.py")).read_text(encoding="utf-8")
_HIDDEN_DIRS = ("/home", "/root", "/work", "/run", "/var/tmp", "/mnt", "/srv", "/media")
# Never hidden, whatever the working directory or $HOME is: the system the interpreter runs on.
_SYSTEM_DIRS = frozenset(
    ("/", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/dev", "/proc", "/sys")
)
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_PREFIXES: dict[str, tuple[str, ...]] = {}
_VERDICT_CAP = 64 * 1024
_MB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """Resource limits for one sample; ``cpu_s`` defaults to the wall timeout rounded up plus one second."""

    timeout_s: float = 3.0
    memory_mb: int = 1024
    cpu_s: int | None = None
    nproc: int = 64
    fsize_mb: int = 16
    nofile: int = 64
    tmpfs_mb: int = 64

    def rlimits(self, own_uid: bool) -> dict[str, int | None]:
        """The rlimits the child sets on itself; NPROC only when it runs under a uid of its own."""
        return {
            "as": self.memory_mb * _MB,
            "cpu": self.cpu_s if self.cpu_s is not None else math.ceil(self.timeout_s) + 1,
            "fsize": self.fsize_mb * _MB,
            "nofile": self.nofile,
            "nproc": self.nproc if own_uid else None,
            "core": 0,
        }


# Why a sample failed, in words a person reading a report understands (``SampleResult.reason``).
REASONS = (
    "passed",
    "assertion",  # the test's check found a wrong answer
    "exception",  # the code or the test raised another exception
    "timeout",  # the wall-clock or CPU limit ran out
    "syntax error",  # the code does not compile
    "missing function",  # the code does not define the entry point
    "resource limit",  # killed by the memory, process or file-size limit
    "nothing extracted",  # the reply held no code (set by evaluate, never by the sandbox)
)


def failure_reason(result: str) -> str:
    """The REASONS entry for a result text ("passed", "timed out", "failed: ..."), also for old results."""
    if result == "passed":
        return "passed"
    if result == "timed out":
        return "timeout"
    detail = result.removeprefix("failed: ")
    if detail.startswith(("SyntaxError", "IndentationError", "TabError")):
        return "syntax error"
    if detail.startswith("AssertionError"):
        return "assertion"
    if detail.startswith("NameError: the code does not define"):
        return "missing function"
    if detail.startswith(("killed", "MemoryError")) or "resource limit" in detail:
        return "resource limit"
    if detail.startswith("nothing extracted"):
        return "nothing extracted"
    return "exception"


@dataclass(frozen=True)
class SampleResult:
    """Outcome of one sample: ``result`` is "passed", "timed out" or "failed: <detail>"; ``reason`` is one of
    REASONS (derived from ``result`` when not given)."""

    passed: bool
    result: str
    duration_s: float
    isolation: str
    reason: str = ""

    def __post_init__(self) -> None:
        if not self.reason:
            object.__setattr__(self, "reason", failure_reason(self.result))


def _within(path: str, directory: str) -> bool:
    return path == directory or path.startswith(directory.rstrip("/") + "/")


def _reachable_by_others(path: str) -> bool:
    """Can a uid that is neither owner nor group walk down to ``path``? (Mount points must be reachable.)"""
    parent = os.path.dirname(path)
    while parent != path:
        try:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
        except OSError:
            return False
        path, parent = parent, os.path.dirname(parent)
    return True


def private_dirs() -> list[str]:
    """Directories a sample must not see: the usual homes and mounts, plus wherever this project, the
    caller's working directory, $HOME and IA_HOME happen to be (a CI clone can live anywhere). Shortest
    first; ones under /tmp (replaced by the sandbox's own tmpfs) are left out."""
    candidates = list(_HIDDEN_DIRS) + [str(_PROJECT_ROOT), str(Path.home())]
    with contextlib.suppress(OSError):  # the working directory may have been deleted
        candidates.append(os.getcwd())
    if os.environ.get("IA_HOME"):
        candidates.append(os.environ["IA_HOME"])
    found = []
    for candidate in candidates:
        real = os.path.realpath(candidate)
        if real in _SYSTEM_DIRS or any(_within(system, real) for system in _SYSTEM_DIRS if system != "/"):
            continue
        if _within(real, "/tmp") or real in found or not os.path.isdir(real):
            continue
        if os.geteuid() == 0 and not _reachable_by_others(real):
            continue  # the sandbox's own uid cannot even get there
        found.append(real)
    return sorted(found, key=len)


def interpreter_prefixes(python: str) -> tuple[str, ...]:
    """Directories the interpreter needs at run time (``python -I -S``): its binary's directory and its base
    prefixes (standard library, lib-dynload, libpython). Asked of the interpreter once, then cached."""
    if python not in _PREFIXES:
        real = os.path.realpath(python)
        dirs = [os.path.dirname(real)]
        try:
            out = subprocess.run(
                [real, "-I", "-S", "-c", "import sys; print(sys.base_prefix); print(sys.base_exec_prefix)"],
                capture_output=True,
                text=True,
                timeout=30,
                check=True,
            ).stdout.split()
            dirs += [os.path.realpath(line) for line in out]
        except (OSError, subprocess.SubprocessError):
            dirs.append(os.path.dirname(os.path.dirname(real)))
        _PREFIXES[python] = tuple(dict.fromkeys(d for d in dirs if d not in _SYSTEM_DIRS))
    return _PREFIXES[python]


def bwrap_hiding(python: str) -> list[str]:
    """bwrap arguments that cover every private directory with an empty tmpfs, bind back (read-only) what the
    interpreter needs from under them, then cover again private directories inside what was bound back."""
    private = private_dirs()
    hidden = [d for d in private if not any(_within(d, outer) and d != outer for outer in private)]
    args: list[str] = []
    for directory in hidden:
        args += ["--tmpfs", directory]
    rebound = [p for p in interpreter_prefixes(python) if any(_within(p, h) for h in hidden)]
    for prefix in rebound:
        args += ["--ro-bind", prefix, prefix]
    for directory in private:
        if any(_within(directory, prefix) and directory != prefix for prefix in rebound):
            args += ["--tmpfs", directory]
    return args


_DETECTED: dict[str, Sandbox] = {}
_DETECT_LOCK = threading.Lock()


class Sandbox:
    """Runs samples at one isolation level with one interpreter; create with ``Sandbox.detect()``."""

    def __init__(self, level: str, python: str) -> None:
        if level not in ISOLATION_LEVELS:
            raise SandboxUnavailable(
                f"unknown isolation level {level!r} (choose from {', '.join(ISOLATION_LEVELS)})"
            )
        self.level = level
        self.python = python
        self._root = os.geteuid() == 0
        self._pool: ZygotePool | None = None

    def __repr__(self) -> str:
        return f"Sandbox(level={self.level!r}, python={self.python!r})"

    @classmethod
    def detect(cls, level: str | None = None) -> Sandbox:
        """Strongest level that works here (or the one asked for, or IA_SANDBOX); checked once per process."""
        wanted = level or os.environ.get("IA_SANDBOX") or ""
        levels = [wanted] if wanted else list(ISOLATION_LEVELS)
        key = ",".join(levels)
        with _DETECT_LOCK:
            if key in _DETECTED:
                return _DETECTED[key]
            failures = []
            for candidate_level in levels:
                if candidate_level == "bwrap" and not shutil.which("bwrap"):
                    failures.append("bwrap is not installed")
                    continue
                if candidate_level == "unshare" and not shutil.which("unshare"):
                    failures.append("unshare is not installed")
                    continue
                for python in interpreter_candidates():
                    box = cls(candidate_level, python)
                    probe = box.run("value = 6 * 7", "assert value == 42", "", Limits(timeout_s=10))
                    if probe.passed:
                        _DETECTED[key] = box
                        return box
                    failures.append(f"{candidate_level} with {python}: {probe.result}")
            raise SandboxUnavailable(
                "; ".join(failures) or "no Python interpreter usable by an unprivileged user"
            )

    def _command(self, tmpfs_mb: int, info_fd: int, zygote_fd: int | None) -> list[str]:
        child = [self.python, "-I", "-S", "-c", _CHILD_SOURCE]
        if zygote_fd is not None:
            child += ["zygote", str(zygote_fd)]
        if self.level == "bwrap":
            command = [
                "bwrap",
                "--unshare-all",
                "--die-with-parent",
                "--new-session",
                "--info-fd",
                str(info_fd),
            ]
            command += ["--ro-bind", "/", "/"]
            command += ["--dev", "/dev", "--tmpfs", "/proc"]
            command += bwrap_hiding(self.python)
            command += ["--size", str(tmpfs_mb * _MB), "--tmpfs", "/tmp", "--chdir", "/tmp"]
            child[0] = os.path.realpath(self.python)  # its path may run through a hidden directory
            return command + child
        if self.level == "unshare":
            return ["unshare", "--user", "--net", "--pid", "--fork", "--kill-child"] + child
        return child

    def _spawn(self, tmpfs_mb: int, zygote: bool = False) -> Child:
        """Start a sandboxed harness that waits on stdin for its sample (the slow part: namespaces, startup)."""
        uid = acquire_uid() if self._root else None
        workdir = None if self.level == "bwrap" else tempfile.mkdtemp(prefix="ia-sandbox-")
        if workdir and uid is not None:
            os.chown(workdir, uid, uid)
        read_fd, write_fd = os.pipe()
        info_read, info_write = os.pipe()
        try:
            proc = subprocess.Popen(
                self._command(tmpfs_mb, info_write, write_fd if zygote else None),
                stdin=subprocess.PIPE,
                stdout=subprocess.DEVNULL,
                stderr=None if os.environ.get("IA_SANDBOX_DEBUG") else subprocess.DEVNULL,
                pass_fds=(write_fd, info_write),
                cwd=workdir or "/",
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                start_new_session=True,
                user=uid,
                group=uid,
                extra_groups=[] if uid is not None else None,
            )
        except OSError as error:
            for fd in (read_fd, info_read):
                os.close(fd)
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            raise SandboxUnavailable(f"cannot start the sandbox ({self.level}): {error}") from error
        finally:
            os.close(write_fd)
            os.close(info_write)
        return Child(proc, read_fd, write_fd, info_read, uid, workdir, tmpfs_mb)

    def _finish(self, child: Child, timed_out: bool) -> None:
        """Make sure nothing the sample started survives, then release the child's resources."""
        try:
            if timed_out or self.level == "rlimits":
                self._kill(child.proc, child.uid)
            child.proc.wait()
            if self.level == "bwrap":
                reap_namespace(child.info_read)
            if child.uid is not None and (timed_out or self.level != "bwrap"):
                kill_uid(child.uid)
        finally:
            os.close(child.read_fd)
            os.close(child.info_read)
            if child.workdir:
                shutil.rmtree(child.workdir, ignore_errors=True)

    def run(
        self,
        code: str,
        test: str = "",
        entry_point: str = "",
        limits: Limits | None = None,
        *,
        prompt: str = "",
    ) -> SampleResult:
        """Run ``code``, then ``test`` and ``check(entry_point)``; passed only if check returned normally.

        ``prompt`` is the problem's prompt: the trusted source of the helpers the test may call."""
        limits = limits or Limits()
        started = time.monotonic()
        nonce = secrets.token_bytes(32)
        pool = self._pool
        if pool is not None:
            outcome = self._run_in_zygote(pool, nonce, code, test, entry_point, limits)
            if outcome is not None:
                data, timed_out, returncode = outcome
                passed, result = _verdict(data, nonce, timed_out, returncode)
                return SampleResult(passed, result, time.monotonic() - started, self.level)
        child = self._spawn(limits.tmpfs_mb)
        payload = frame(
            (
                nonce,
                code,
                test,
                entry_point,
                child.verdict_fd,
                limits.rlimits(child.uid is not None),
                PRELOAD,
                True,
            )
        )
        timed_out = True
        data = b""
        try:
            data, timed_out = self._exchange(
                child.proc, child.read_fd, payload, time.monotonic() + limits.timeout_s
            )
        finally:
            self._finish(child, timed_out)
        passed, result = _verdict(data, nonce, timed_out, child.proc.returncode)
        return SampleResult(passed, result, time.monotonic() - started, self.level)

    def _run_in_zygote(
        self, pool: ZygotePool, nonce: bytes, code: str, test: str, entry_point: str, limits: Limits
    ) -> tuple[bytes, bool, int | None] | None:
        """Run one sample in a pooled zygote; None when the zygote was unusable before it got the sample."""
        child = pool.take(limits.tmpfs_mb)
        payload = frame(
            (nonce, code, test, entry_point, 0, limits.rlimits(child.uid is not None), PRELOAD, True)
        )
        assert child.proc.stdin is not None
        try:
            child.proc.stdin.write(payload)
            child.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pool.discard(child, timed_out=False)
            return None
        reply, timed_out = read_reply(child, time.monotonic() + limits.timeout_s)
        if reply is None:
            pool.discard(child, timed_out=True)
            return b"", timed_out, child.proc.returncode
        data, returncode, clean = reply
        if clean:
            pool.give_back(child)
        else:
            pool.discard(child, timed_out=False)
        return data, False, returncode

    @contextlib.contextmanager
    def prewarmed(self, workers: int) -> Iterator[Sandbox]:
        """Within the block, samples run in long-lived per-worker sandboxes (bwrap only; see ZygotePool)."""
        if workers < 1 or self._pool is not None or self.level != "bwrap":
            yield self
            return
        self._pool = ZygotePool(self)
        try:
            yield self
        finally:
            pool, self._pool = self._pool, None
            pool.close()

    @staticmethod
    def _exchange(
        proc: subprocess.Popen, read_fd: int, payload: bytes, deadline: float
    ) -> tuple[bytes, bool]:
        """Send the payload, then read the verdict until EOF, the child's exit or the deadline."""
        assert proc.stdin is not None
        try:
            proc.stdin.write(payload)
            proc.stdin.close()
        except (BrokenPipeError, ValueError):
            pass
        pidfd = os.pidfd_open(proc.pid)
        chunks: list[bytes] = []
        size = 0
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return b"".join(chunks), True
                ready, _, _ = select.select([read_fd, pidfd], [], [], remaining)
                if read_fd in ready:
                    chunk = os.read(read_fd, 4096)
                    if not chunk:
                        return b"".join(chunks), False
                    if size < _VERDICT_CAP:
                        chunks.append(chunk)
                        size += len(chunk)
                elif pidfd in ready:
                    os.set_blocking(read_fd, False)
                    try:
                        chunks.append(os.read(read_fd, _VERDICT_CAP))
                    except BlockingIOError:
                        pass
                    return b"".join(chunks), False
        finally:
            os.close(pidfd)

    @staticmethod
    def _kill(proc: subprocess.Popen, uid: int | None) -> None:
        """Kill the child's session and every descendant still known by parentage."""
        try:
            descendants = psutil.Process(proc.pid).children(recursive=True)
        except psutil.Error:
            descendants = []
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        for child in descendants:
            try:
                child.kill()
            except psutil.Error:
                pass


def _verdict(data: bytes, nonce: bytes, timed_out: bool, returncode: int | None) -> tuple[bool, str]:
    """Turn what came through the verdict pipe (and how the child ended) into (passed, result)."""
    if data.startswith(nonce):
        body = data[len(nonce) :]
        if body == b"P":
            return True, "passed"
        if body.startswith(b"F"):
            return False, "failed: " + body[1:].decode("utf-8", "replace")
        return False, "failed: malformed verdict"
    if timed_out:
        return False, "timed out"
    if data:
        return False, "failed: the verdict channel was written by the code under test"
    if returncode is not None and returncode < 0:
        signame = (
            signal.Signals(-returncode).name if -returncode in signal.valid_signals() else str(-returncode)
        )
        if signame == "SIGXCPU":
            return False, "timed out"
        return False, f"failed: killed by {signame} (memory, CPU or process limit?)"
    if returncode in (128 + signal.SIGXCPU, 128 + signal.SIGKILL):
        return (
            False,
            "timed out" if returncode == 128 + signal.SIGXCPU else "failed: killed (resource limit?)",
        )
    return False, f"failed: the process exited with code {returncode} before the check finished"

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
private tmpfs /tmp as working directory, /home /root /work hidden, no /proc, dies with its parent), ``unshare``
(user, PID and network namespaces, temporary working directory) and ``rlimits`` (limits only). At every level
the child runs ``python -I -S`` with an empty environment, under a fresh uid of its own when we are root (so
RLIMIT_NPROC applies and everything it leaves behind is killed by a kill(-1) sent as that uid), with limits
on address space, CPU, processes, file size and open files, and a wall-clock timeout. The verdict is the
nonce protocol of ``_sandbox_child.py``: printing "passed" or exiting 0 early never passes.

Batch mode (``prewarmed``, used by evaluate_samples): each worker gets one bwrap sandbox whose harness
(a zygote that never runs sample code) forks a fresh child per sample; after each sample it kills every
process the sample left in the sandbox and wipes the working directory; on a timeout, a crash of the zygote
or a failed clean-up the whole sandbox is destroyed and replaced. Samples of one worker share the sandbox's
uid and namespaces one after the other, never at the same time.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import marshal
import math
import os
import secrets
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psutil

from core.errors import SandboxUnavailable

__all__ = ["ISOLATION_LEVELS", "Limits", "SampleResult", "Sandbox", "sandbox_uid_range"]

ISOLATION_LEVELS = ("bwrap", "unshare", "rlimits")
# Extra modules the harness imports before arming the audit hook (it always imports ``types``, which reads
# ``tb_frame`` while loading). Empty: anything else is imported only by code that needs it.
PRELOAD: tuple[str, ...] = ()
_CHILD_SOURCE = (Path(__file__).with_name("_sandbox_child.py")).read_text(encoding="utf-8")
_HIDDEN_DIRS = ("/home", "/root", "/work", "/run", "/var/tmp", "/mnt", "/srv", "/media")
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


@dataclass(frozen=True)
class SampleResult:
    """Outcome of one sample: ``result`` is "passed", "timed out" or "failed: <reason>"."""

    passed: bool
    result: str
    duration_s: float
    isolation: str


class _UidPool:
    """A fresh unused uid for every sandbox run of this process, so limits and clean-up are exact."""

    SPAN = 65536

    def __init__(self) -> None:
        self._counter = itertools.count()
        self._lock = threading.Lock()

    @property
    def base(self) -> int:
        return 200_000_000 + (os.getpid() % 4096) * self.SPAN

    def acquire(self) -> int:
        with self._lock:
            return self.base + next(self._counter) % self.SPAN


def sandbox_uid_range() -> range:
    """The uids this process's sandboxes run under (when we are root)."""
    return range(_UIDS.base, _UIDS.base + _UidPool.SPAN)


_UIDS = _UidPool()
_DETECTED: dict[str, Sandbox] = {}
_DETECT_LOCK = threading.Lock()


def _world_usable(path: str) -> bool:
    """True when a uid other than the owner can execute ``path`` (every parent directory searchable)."""
    real = os.path.realpath(path)
    try:
        if not os.stat(real).st_mode & stat.S_IXOTH:
            return False
        parent = os.path.dirname(real)
        while True:
            if not os.stat(parent).st_mode & stat.S_IXOTH:
                return False
            if parent == "/":
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


def _interpreter_candidates() -> list[str]:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    names = [sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}", shutil.which(version) or ""]
    if os.geteuid() != 0:
        return [sys.executable]
    return [name for name in dict.fromkeys(names) if name and _world_usable(name)]


def _kill_uid(uid: int) -> None:
    """Kill every process of ``uid``, even ones that left the session: kill(-1) sent *as* that uid.

    The kernel walks the task list under a lock that fork also takes, so no process of the uid can slip
    through; the uid is used by one sandbox run only, so nothing else is touched.
    """
    killer = shutil.which("kill") or "/bin/kill"
    command = (
        [killer, "-KILL", "--", "-1"]
        if os.path.exists(killer)
        else [sys.executable, "-I", "-S", "-c", "import os; os.kill(-1, 9)"]
    )
    for _ in range(2):
        subprocess.run(
            command,
            user=uid,
            group=uid,
            extra_groups=[],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            cwd="/",
            env={},
            check=False,
        )
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline and _live_processes(uid):
        time.sleep(0.01)  # SIGKILLed processes may still be tearing down their memory


def _live_processes(uid: int) -> list[psutil.Process]:
    """Processes of ``uid`` that have not finished dying (zombies excluded)."""
    return [
        proc
        for proc in psutil.process_iter(["uids", "status"])
        if proc.info["uids"] and proc.info["uids"].real == uid and proc.info["status"] != psutil.STATUS_ZOMBIE
    ]


@dataclass
class _Child:
    """A started sandboxed harness and the descriptors the parent keeps for it."""

    proc: subprocess.Popen
    read_fd: int
    verdict_fd: int  # the descriptor number the child writes its verdict to
    info_read: int
    uid: int | None
    workdir: str | None
    tmpfs_mb: int


class _ZygotePool:
    """Long-lived sandboxes (one per worker) whose harness forks a fresh child per sample.

    Namespaces and the interpreter start once per worker instead of once per sample. Between samples the
    zygote kills every process the sample left (kill(-1) within the sandbox) and wipes the working directory;
    it never runs sample code itself. A zygote that times out, dies or cannot clean up is replaced.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._idle: list[_Child] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self, tmpfs_mb: int) -> _Child:
        with self._lock:
            for index, child in enumerate(self._idle):
                if child.tmpfs_mb == tmpfs_mb and child.proc.poll() is None:
                    return self._idle.pop(index)
        return self._sandbox._spawn(tmpfs_mb, zygote=True)

    def give_back(self, child: _Child) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(child)
                return
        self.discard(child, timed_out=False)

    def discard(self, child: _Child, timed_out: bool) -> None:
        assert child.proc.stdin is not None
        try:
            child.proc.stdin.close()  # the zygote reads end of file and exits
        except OSError:
            pass
        self._sandbox._finish(child, timed_out)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for child in idle:
            self.discard(child, timed_out=False)


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
        self._pool: _ZygotePool | None = None

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
                for python in _interpreter_candidates():
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
            for hidden in _HIDDEN_DIRS:
                if os.path.isdir(hidden) and not self.python.startswith(hidden + "/"):
                    command += ["--tmpfs", hidden]
            command += ["--size", str(tmpfs_mb * _MB), "--tmpfs", "/tmp", "--chdir", "/tmp"]
            return command + child
        if self.level == "unshare":
            return ["unshare", "--user", "--net", "--pid", "--fork", "--kill-child"] + child
        return child

    def _spawn(self, tmpfs_mb: int, zygote: bool = False) -> _Child:
        """Start a sandboxed harness that waits on stdin for its sample (the slow part: namespaces, startup)."""
        uid = _UIDS.acquire() if self._root else None
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
        return _Child(proc, read_fd, write_fd, info_read, uid, workdir, tmpfs_mb)

    def _finish(self, child: _Child, timed_out: bool) -> None:
        """Make sure nothing the sample started survives, then release the child's resources."""
        try:
            if timed_out or self.level == "rlimits":
                self._kill(child.proc, child.uid)
            child.proc.wait()
            if self.level == "bwrap":
                _reap_namespace(child.info_read)
            if child.uid is not None and (timed_out or self.level != "bwrap"):
                _kill_uid(child.uid)
        finally:
            os.close(child.read_fd)
            os.close(child.info_read)
            if child.workdir:
                shutil.rmtree(child.workdir, ignore_errors=True)

    def run(
        self, code: str, test: str = "", entry_point: str = "", limits: Limits | None = None
    ) -> SampleResult:
        """Run ``code``, then ``test`` and ``check(entry_point)``; passed only if check returned normally."""
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
        payload = _frame(
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
        self, pool: _ZygotePool, nonce: bytes, code: str, test: str, entry_point: str, limits: Limits
    ) -> tuple[bytes, bool, int | None] | None:
        """Run one sample in a pooled zygote; None when the zygote was unusable before it got the sample."""
        child = pool.take(limits.tmpfs_mb)
        payload = _frame(
            (nonce, code, test, entry_point, 0, limits.rlimits(child.uid is not None), PRELOAD, True)
        )
        assert child.proc.stdin is not None
        try:
            child.proc.stdin.write(payload)
            child.proc.stdin.flush()
        except (BrokenPipeError, ValueError):
            pool.discard(child, timed_out=False)
            return None
        reply, timed_out = _read_reply(child, time.monotonic() + limits.timeout_s)
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
        """Within the block, samples run in long-lived per-worker sandboxes (bwrap only; see _ZygotePool)."""
        if workers < 1 or self._pool is not None or self.level != "bwrap":
            yield self
            return
        self._pool = _ZygotePool(self)
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


def _reap_namespace(info_fd: int) -> None:
    """Wait until bwrap's init (PID 1 of the sandbox) is gone: the kernel empties the namespace before that."""
    os.set_blocking(info_fd, False)
    try:
        info = json.loads(os.read(info_fd, 4096) or b"{}")
    except (BlockingIOError, ValueError):
        return
    pid = info.get("child-pid")
    if not isinstance(pid, int):
        return
    try:
        pidfd = os.pidfd_open(pid)
    except ProcessLookupError:
        return
    try:
        if not select.select([pidfd], [], [], 2.0)[0]:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            select.select([pidfd], [], [], 5.0)
    finally:
        os.close(pidfd)


def _frame(payload: tuple) -> bytes:
    """A length-prefixed marshal frame, as the harness reads it."""
    body = marshal.dumps(payload)
    return len(body).to_bytes(4, "big") + body


def _read_reply(child: _Child, deadline: float) -> tuple[tuple | None, bool]:
    """One zygote reply frame, or (None, timed_out) if the zygote died or the deadline passed first."""
    buffer = b""
    pidfd = os.pidfd_open(child.proc.pid)
    try:
        while True:
            if len(buffer) >= 4 and len(buffer) >= 4 + int.from_bytes(buffer[:4], "big"):
                size = int.from_bytes(buffer[:4], "big")
                try:
                    return marshal.loads(buffer[4 : 4 + size]), False
                except (ValueError, EOFError, TypeError):
                    return None, False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return None, True
            ready, _, _ = select.select([child.read_fd, pidfd], [], [], remaining)
            if child.read_fd in ready:
                chunk = os.read(child.read_fd, 1 << 16)
                if not chunk:
                    return None, False
                buffer += chunk
            elif pidfd in ready:
                return None, False
    finally:
        os.close(pidfd)


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

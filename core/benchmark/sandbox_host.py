"""Host side of the sandbox: per-run uids, interpreter choice, killing what a run left, zygote pool, framing.

Internal to core.benchmark.sandbox (not a public API): split out to keep each module to one job.
"""

from __future__ import annotations

import itertools
import json
import marshal
import os
import select
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from core.benchmark.sandbox import Sandbox

__all__ = [
    "Child",
    "ZygotePool",
    "acquire_uid",
    "frame",
    "interpreter_candidates",
    "kill_uid",
    "read_reply",
    "reap_namespace",
    "sandbox_uid_range",
]


class UidPool:
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
    return range(UIDS.base, UIDS.base + UidPool.SPAN)


UIDS = UidPool()


def acquire_uid() -> int:
    """A uid no other sandbox run of this process has used."""
    return UIDS.acquire()


def world_usable(path: str) -> bool:
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


def interpreter_candidates() -> list[str]:
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    names = [sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}", shutil.which(version) or ""]
    if os.geteuid() != 0:
        return [sys.executable]
    return [name for name in dict.fromkeys(names) if name and world_usable(name)]


def kill_uid(uid: int) -> None:
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
    while time.monotonic() < deadline and live_processes(uid):
        time.sleep(0.01)  # SIGKILLed processes may still be tearing down their memory


def live_processes(uid: int) -> list[psutil.Process]:
    """Processes of ``uid`` that have not finished dying (zombies excluded)."""
    return [
        proc
        for proc in psutil.process_iter(["uids", "status"])
        if proc.info["uids"] and proc.info["uids"].real == uid and proc.info["status"] != psutil.STATUS_ZOMBIE
    ]


@dataclass
class Child:
    """A started sandboxed harness and the descriptors the parent keeps for it."""

    proc: subprocess.Popen
    read_fd: int
    verdict_fd: int  # the descriptor number the child writes its verdict to
    info_read: int
    uid: int | None
    workdir: str | None
    tmpfs_mb: int


class ZygotePool:
    """Long-lived sandboxes (one per worker) whose harness forks a fresh child per sample.

    Namespaces and the interpreter start once per worker instead of once per sample. Between samples the
    zygote kills every process the sample left (kill(-1) within the sandbox) and wipes the working directory;
    it never runs sample code itself. A zygote that times out, dies or cannot clean up is replaced.
    """

    def __init__(self, sandbox: Sandbox) -> None:
        self._sandbox = sandbox
        self._idle: list[Child] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self, tmpfs_mb: int) -> Child:
        with self._lock:
            for index, child in enumerate(self._idle):
                if child.tmpfs_mb == tmpfs_mb and child.proc.poll() is None:
                    return self._idle.pop(index)
        return self._sandbox._spawn(tmpfs_mb, zygote=True)

    def give_back(self, child: Child) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(child)
                return
        self.discard(child, timed_out=False)

    def discard(self, child: Child, timed_out: bool) -> None:
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


def reap_namespace(info_fd: int) -> None:
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


def frame(payload: tuple) -> bytes:
    """A length-prefixed marshal frame, as the harness reads it."""
    body = marshal.dumps(payload)
    return len(body).to_bytes(4, "big") + body


def read_reply(child: Child, deadline: float) -> tuple[tuple | None, bool]:
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

"""Host side of the sandbox: per-run uids, interpreter choice, starting harness processes with the pipe ends
they need, killing what a run left, and the per-worker zygote pairs of batch mode.

Internal to core.benchmark.sandbox (not a public API): split out to keep each module to one job. Every call
that exists on one platform only (os.geteuid, os.pidfd_open, process groups, fd passing) is looked up, never
assumed, so the same code scores on Linux, macOS and Windows at whatever isolation the system offers.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field

import psutil

from core.benchmark.harness import BOOT, boot_frame
from core.benchmark.harness.control import recv_message, send_message

__all__ = [
    "Child",
    "ZygotePair",
    "ZygotePool",
    "acquire_uid",
    "interpreter_candidates",
    "is_root",
    "kill_tree",
    "kill_uid",
    "reap_namespace",
    "sandbox_uid_range",
    "spawn",
]

POSIX = os.name == "posix"


def is_root() -> bool:
    """True when this process runs as root (POSIX); never on Windows."""
    geteuid = getattr(os, "geteuid", None)
    return geteuid is not None and geteuid() == 0


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
    """The uids this process's sandboxes and judges run under (when we are root)."""
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
            if parent == os.path.dirname(parent):
                return True
            parent = os.path.dirname(parent)
    except OSError:
        return False


def interpreter_candidates() -> list[str]:
    """Interpreters the sample may run under: ours, or (as root) one a fresh uid can execute."""
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    if not is_root():
        return [sys.executable]
    names = [sys.executable, f"/usr/bin/{version}", f"/usr/local/bin/{version}", shutil.which(version) or ""]
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
    found = []
    for proc in psutil.process_iter(["uids", "status"]):
        uids = proc.info["uids"]
        if uids and uids.real == uid and proc.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(proc)
    return found


def kill_tree(proc: subprocess.Popen) -> None:
    """Kill a started harness, its process group or session, and every descendant still known by parentage.

    Once the harness has been reaped its pid may belong to another process, so only its process group (whose
    number the kernel does not reuse while a member lives) is signalled then."""
    alive = proc.poll() is None
    try:
        descendants = psutil.Process(proc.pid).children(recursive=True) if alive else []
    except psutil.Error:
        descendants = []
    killpg = getattr(os, "killpg", None)
    if killpg is not None:
        try:
            killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, OSError):
            pass
    if alive:
        try:
            proc.kill()
        except OSError:
            pass
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass


def reap_namespace(info_fd: int) -> None:
    """Wait until bwrap's init (PID 1 of the sandbox) is gone: the kernel empties the namespace before that."""
    os.set_blocking(info_fd, False)
    try:
        info = json.loads(os.read(info_fd, 4096) or b"{}")
    except (BlockingIOError, ValueError, OSError):
        return
    pid = info.get("child-pid")
    if not isinstance(pid, int):
        return
    pidfd_open = getattr(os, "pidfd_open", None)
    if pidfd_open is None:  # an older kernel or Python: poll instead
        deadline = time.monotonic() + 2.0
        while time.monotonic() < deadline and psutil.pid_exists(pid):
            time.sleep(0.01)
        if psutil.pid_exists(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        return
    try:
        pidfd = pidfd_open(pid)
    except (ProcessLookupError, OSError):
        return
    try:
        if not select.select([pidfd], [], [], 2.0)[0]:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            select.select([pidfd], [], [], 5.0)
    finally:
        os.close(pidfd)


def _inheritable(fds: tuple[int, ...]) -> tuple[dict, list[int]]:
    """Popen arguments that hand ``fds`` to the child, and the values the child gets (fd or handle)."""
    if POSIX:
        return {"pass_fds": fds}, list(fds)
    import msvcrt

    handles = []
    for fd in fds:
        handle = msvcrt.get_osfhandle(fd)
        os.set_handle_inheritable(handle, True)
        handles.append(handle)
    info = subprocess.STARTUPINFO()
    info.lpAttributeList = {"handle_list": handles}
    return {"startupinfo": info, "close_fds": True}, handles


def spawn(
    command: list[str],
    frame_role: str,
    setup: dict,
    *,
    python: str,
    fds: tuple[int, ...] = (),
    extra_fds: tuple[int, ...] = (),
    control: int | None = None,
    uid: int | None = None,
    cwd: str | None = None,
    stdout=subprocess.DEVNULL,
) -> tuple[subprocess.Popen, bytes]:
    """Start a harness process running ``command`` (which ends with ``python -I -S -c BOOT``); returns the
    process and the boot frame to write on its standard input (the caller writes it, so two harnesses can
    start at the same time)."""
    keep = tuple(fds) + tuple(extra_fds) + ((control,) if control is not None else ())
    popen_fds, values = _inheritable(keep)
    passed = values[: len(fds)]
    control_value = values[-1] if control is not None else None
    kwargs: dict = dict(popen_fds)
    if POSIX:
        kwargs["start_new_session"] = True
        if uid is not None:
            kwargs.update(user=uid, group=uid, extra_groups=[])
    debug = bool(os.environ.get("IA_SANDBOX_DEBUG"))
    proc = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=stdout,
        stderr=None if debug else subprocess.DEVNULL,
        cwd=cwd or ("/" if POSIX else None),
        env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        if POSIX
        else {"SYSTEMROOT": os.environ.get("SYSTEMROOT", "")},
        **kwargs,
    )
    frame = boot_frame(frame_role, setup, python=python, fds=tuple(passed), control=control_value)
    return proc, frame


def harness_command(python: str) -> list[str]:
    """The harness command line: an isolated interpreter without site-packages running BOOT."""
    return [python, "-I", "-S", "-c", BOOT]


def write_boot(proc: subprocess.Popen, frame: bytes) -> bool:
    """Write the boot frame and close standard input; False when the process is already gone."""
    stdin, proc.stdin = proc.stdin, None  # closed here; communicate() must not flush it again
    assert stdin is not None
    try:
        stdin.write(frame)
        return True
    except (BrokenPipeError, OSError, ValueError):
        return False
    finally:
        with contextlib.suppress(OSError, ValueError):
            stdin.close()


@dataclass
class Child:
    """A started harness process and what the host keeps for it."""

    proc: subprocess.Popen
    uid: int | None = None
    workdir: str | None = None
    info_read: int | None = None  # bwrap's --info-fd (the namespace's init pid)
    sock: socket.socket | None = None  # control socket of a zygote
    tmpfs_mb: int = 0
    extra: dict = field(default_factory=dict)


@dataclass
class ZygotePair:
    """One worker's long-lived pair: the sample zygote (in the sandbox) and the judge zygote (outside).

    ``pending``: the sample zygote has not yet said whether it cleaned up after the last sample (collected
    when the pair is next taken, so that a verdict never waits for the clean-up)."""

    sample: Child
    judge: Child
    pending: bool = False


def recv_with_deadline(sock: socket.socket, deadline: float) -> object | None:
    """One control message from a zygote, or None when it hung up or the deadline passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return None
    try:
        ready, _, _ = select.select([sock], [], [], remaining)
    except (OSError, ValueError):
        return None
    if not ready:
        return None
    try:
        message = recv_message(sock)
    except (OSError, ValueError, EOFError):
        return None
    if message is None:
        return None
    payload, fds = message
    for fd in fds:
        os.close(fd)
    return payload


def send_with_fds(sock: socket.socket, payload: dict, fds: list[int]) -> bool:
    try:
        send_message(sock, payload, fds)
        return True
    except OSError:
        return False


class ZygotePool:
    """Long-lived zygote pairs (one per worker) that fork a fresh sample process and a fresh judge per sample.

    Namespaces and interpreters start once per worker instead of once per sample. The sample zygote never runs
    sample code itself; after each sample it kills what was left and wipes the working directory. A pair
    member that times out, dies or cannot clean up is destroyed and started again.
    """

    def __init__(self, start, finish, settle) -> None:
        self._start = start  # (tmpfs_mb) -> ZygotePair
        self._finish = finish  # (Child, kill: bool) -> None
        self._settle = settle  # (ZygotePair) -> bool: collect a pending clean-up report; False if unusable
        self._idle: list[ZygotePair] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self, tmpfs_mb: int) -> ZygotePair:
        while True:
            with self._lock:
                found = next((p for p in self._idle if p.sample.tmpfs_mb == tmpfs_mb), None)
                if found is None:
                    break
                self._idle.remove(found)
            alive = found.sample.proc.poll() is None and found.judge.proc.poll() is None
            if alive and self._settle(found):
                return found
            self.discard(found.sample, kill=True)
            self.discard(found.judge, kill=not alive)
        return self._start(tmpfs_mb)

    def give_back(self, pair: ZygotePair) -> None:
        with self._lock:
            if not self._closed:
                self._idle.append(pair)
                return
        self.discard(pair.sample, kill=False)
        self.discard(pair.judge, kill=False)

    def discard(self, child: Child, kill: bool) -> None:
        if child.sock is not None:
            try:
                child.sock.close()  # the zygote reads end of file and exits
            except OSError:
                pass
        self._finish(child, kill)

    def close(self) -> None:
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for pair in idle:
            self.discard(pair.sample, kill=False)
            self.discard(pair.judge, kill=False)

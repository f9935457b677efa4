"""Judge a piece of untrusted code against its test: the test runs in a trusted judge process, the code in an
isolated, limited, short-lived process of its own, and only plain data passes between them.

Public API (the runner builds on this; see docs/INTERFACES.md, "core/benchmark (evaluation side)"):

    Limits(timeout_s=3.0, memory_mb=1024, cpu_s=None, nproc=64, fsize_mb=16, nofile=64, tmpfs_mb=64)
    SampleResult(passed, result, duration_s, isolation, reason)     # reason: one of REASONS
    Sandbox.detect(level=None) -> Sandbox     # cached; IA_SANDBOX=bwrap|unshare|rlimits|job|process forces one
    sandbox.level, sandbox.python, sandbox.seccomp, sandbox.describe()
    sandbox.run(code, test="", entry_point="", limits=Limits(), *, prompt="") -> SampleResult   # thread-safe
    with sandbox.prewarmed(workers): ...      # batch mode: per-worker zygote pairs (bwrap on Linux)
    sandbox_uid_range() -> range              # uids our sandboxes run under (tests look for leftovers)

Trust model (README, "Why a sample cannot change its score"):
- The verdict is decided by the judge (core/benchmark/harness/judge_side.py), a process outside the sandbox
  that never runs sample code: it executes the problem's prompt (its helpers) and test, and ``candidate`` is
  a proxy that sends arguments to the sample's process and gets back a plain value or a built-in exception.
  The host reads the verdict from the judge alone, through a pipe the sample never holds.
- The sample's process (harness/sample_side.py) can therefore change only what its own functions return.
  It is isolated anyway, so that it cannot reach the judge, the host, other samples or the machine:

Isolation, strongest first (the level is recorded in every result and report):
- ``bwrap``: new user, PID, network, IPC and UTS namespaces; read-only root; a private /tmp of ``tmpfs_mb`` as
  its working directory, the only writable place; /home, /root, /work, /run ..., the project, the working
  directory, $HOME and IA_HOME covered by small read-only tmpfs; a minimal read-only /dev; no /proc; dies with
  its parent.
- ``unshare``: user, PID and network namespaces, a temporary working directory.
- ``rlimits``: limits only (macOS, or Linux without namespaces).
- ``job`` (Windows): a Job Object (one process, memory and CPU time capped);
- ``process``: a process of its own and nothing else this list names (a system where even resource limits
  cannot be set); seccomp and Landlock still apply where the kernel has them.
At every level: an empty environment, ``python -I -S``, a fresh uid of its own when we are root, limits on
memory, CPU, file size and open files, a wall-clock timeout; on Linux x86_64/aarch64 a seccomp filter
(harness/seccomp.py: no new processes or programs, no signals or tracing of other processes, no IPC that
outlives it), so the memory limit covers the whole sample; the judge is not dumpable (no ptrace, no
/proc/<pid>/mem) and, when we are root, runs under another uid than the sample.

Batch mode (``prewarmed``, used by evaluate_samples): each worker gets a sample zygote in one bwrap sandbox and
a judge zygote outside it, which fork a fresh sample process and a fresh judge per sample, connected by new
pipes the host passes to both (so no byte of one sample can reach the next). The sample zygote never runs
sample code and holds nothing of any sample; after each it kills what was left and wipes the working
directory; on a timeout, a crash or a failed clean-up it is destroyed and replaced.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from core.benchmark.harness import landlock, seccomp
from core.benchmark.harness.sample_side import EXIT_LANDLOCK, EXIT_LIMITS, EXIT_SECCOMP
from core.benchmark.sandbox_host import (
    POSIX,
    Child,
    ZygotePair,
    ZygotePool,
    acquire_uid,
    harness_command,
    interpreter_candidates,
    is_root,
    kill_tree,
    kill_uid,
    reap_namespace,
    recv_with_deadline,
    sandbox_uid_range,
    send_with_fds,
    spawn,
    write_boot,
)
from core.errors import SandboxUnavailable
from core.i18n import _

__all__ = [
    "ISOLATION_LEVELS",
    "REASONS",
    "Limits",
    "SampleResult",
    "Sandbox",
    "failure_reason",
    "sandbox_uid_range",
]

ISOLATION_LEVELS = ("bwrap", "unshare", "rlimits", "job", "process")
_POSIX_LEVELS = ("bwrap", "unshare", "rlimits", "process")
_WINDOWS_LEVELS = ("job", "process")
_HIDDEN_DIRS = ("/home", "/root", "/work", "/run", "/var/tmp", "/mnt", "/srv", "/media")
# Never hidden, whatever the working directory or $HOME is: the system the interpreter runs on.
_SYSTEM_DIRS = frozenset(
    ("/", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32", "/etc", "/dev", "/proc", "/sys")
)
_DEVICES = ("null", "zero", "full", "random", "urandom")
_PROJECT_ROOT = Path(__file__).resolve().parents[2]
_PREFIXES: dict[str, tuple[str, ...]] = {}
_MB = 1024 * 1024
_SMALL_TMPFS = 64 * 1024  # the covering tmpfs: read-only, and small anyway
_JUDGE_SLACK_S = 5.0  # beyond the sample's timeout: the judge's start and the test's own work
_SAMPLE_GRACE_S = 2.0  # for the sample's process to end once the judge said bye
_SETUP_FAILURES = {
    EXIT_SECCOMP: "install its seccomp filter",
    EXIT_LIMITS: "apply its resource limits",
    EXIT_LANDLOCK: "apply its Landlock rules",
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
        """The rlimits the sample sets on itself; NPROC only when it runs under a uid of its own."""
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
    first; ones under /tmp are left out, since the sandbox's /tmp is a tmpfs of its own that replaces the
    host's /tmp entirely."""
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
        if is_root() and not _reachable_by_others(real):
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
    """bwrap arguments that cover every private directory with a small tmpfs, bind back (read-only) what the
    interpreter needs from under them, cover again private directories inside what was bound back, then make
    every covering tmpfs read-only. Every tmpfs has a size."""
    private = private_dirs()
    hidden = [d for d in private if not any(_within(d, outer) and d != outer for outer in private)]
    args: list[str] = []
    for directory in hidden:
        args += ["--size", str(_SMALL_TMPFS), "--tmpfs", directory]
    rebound = [p for p in interpreter_prefixes(python) if any(_within(p, h) for h in hidden)]
    for prefix in rebound:
        args += ["--ro-bind", prefix, prefix]
    covered_again = []
    for directory in private:
        if any(_within(directory, prefix) and directory != prefix for prefix in rebound):
            args += ["--size", str(_SMALL_TMPFS), "--tmpfs", directory]
            covered_again.append(directory)
    for directory in hidden + covered_again:
        args += ["--remount-ro", directory]
    return args


def bwrap_devices() -> list[str]:
    """A minimal /dev (null, zero, full, random, urandom) on a small tmpfs made read-only afterwards."""
    args = ["--size", str(_SMALL_TMPFS), "--tmpfs", "/dev"]
    for name in _DEVICES:
        if os.path.exists(f"/dev/{name}"):
            args += ["--dev-bind", f"/dev/{name}", f"/dev/{name}"]
    return args + ["--remount-ro", "/dev"]


_DETECTED: dict[str, Sandbox] = {}
_DETECT_LOCK = threading.Lock()


def platform_levels() -> tuple[str, ...]:
    """The isolation levels this platform can offer, strongest first."""
    return _WINDOWS_LEVELS if os.name == "nt" else _POSIX_LEVELS


class Sandbox:
    """Runs samples at one isolation level with one interpreter; create with ``Sandbox.detect()``."""

    def __init__(self, level: str, python: str) -> None:
        if level not in ISOLATION_LEVELS:
            raise SandboxUnavailable(
                _("unknown isolation level {level} (choose from {choices})").format(
                    level=repr(level), choices=", ".join(ISOLATION_LEVELS)
                )
            )
        self.level = level
        self.python = python
        self._root = is_root()
        self.seccomp = seccomp.available_arch() is not None
        # Landlock where there is no mount namespace (under bwrap the file system is already the sandbox's).
        self.landlock = level != "bwrap" and landlock.abi_version() > 0
        self._pool: ZygotePool | None = None

    def __repr__(self) -> str:
        return (
            f"Sandbox(level={self.level!r}, python={self.python!r}, seccomp={self.seccomp}, "
            f"landlock={self.landlock})"
        )

    def describe(self) -> str:
        """The isolation in words, for reports and the app (e.g. "bwrap + seccomp, own uid")."""
        parts = [self.level]
        if self.seccomp:
            parts.append("seccomp")
        if self.landlock:
            parts.append("landlock")
        text = " + ".join(parts)
        if self._root and self.level in _POSIX_LEVELS:
            text += ", own uid"
        return text

    @classmethod
    def detect(cls, level: str | None = None) -> Sandbox:
        """Strongest level that works here (or the one asked for, or IA_SANDBOX); checked once per process."""
        wanted = level or os.environ.get("IA_SANDBOX") or ""
        levels = [wanted] if wanted else list(platform_levels())
        key = ",".join(levels)
        with _DETECT_LOCK:
            if key in _DETECTED:
                return _DETECTED[key]
            failures = []
            for candidate_level in levels:
                if candidate_level in ISOLATION_LEVELS and candidate_level not in platform_levels():
                    failures.append(f"{candidate_level} is not available on this system")
                    continue
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
                "; ".join(failures) or _("no Python interpreter usable by an unprivileged user")
            )

    # -- starting harness processes ----------------------------------------------------------------------
    def _sample_command(self, tmpfs_mb: int, info_fd: int | None, seccomp_fd: int | None = None) -> list[str]:
        child = harness_command(self.python)
        if self.level == "bwrap":
            command = [
                "bwrap",
                "--unshare-all",
                "--unshare-user",
                "--disable-userns",
                "--die-with-parent",
                "--new-session",
            ]
            if info_fd is not None:
                command += ["--info-fd", str(info_fd)]
            command += ["--ro-bind", "/", "/"]
            command += bwrap_devices()
            command += ["--size", str(_SMALL_TMPFS), "--tmpfs", "/proc", "--remount-ro", "/proc"]
            command += bwrap_hiding(self.python)
            command += ["--size", str(tmpfs_mb * _MB), "--tmpfs", "/tmp", "--chdir", "/tmp"]
            child[0] = os.path.realpath(self.python)  # its path may run through a hidden directory
            return command + child
        if self.level == "unshare":
            return ["unshare", "--user", "--net", "--pid", "--fork", "--kill-child"] + child
        return child

    def _sample_setup(self, limits: Limits, own_uid: bool) -> dict:
        return {
            "limits": limits.rlimits(own_uid) if self.level not in ("process",) else {},
            "require_limits": self.level in ("rlimits", "job"),
            "seccomp": self.seccomp,
            "landlock": self.landlock,
        }

    def _start_sample(
        self, limits: Limits, fds: tuple[int, ...] = (), control: int | None = None
    ) -> tuple[Child, bytes]:
        """Start the sample's harness (a one-sample process, or a zygote when ``control`` is given)."""
        uid = acquire_uid() if self._root and self.level in _POSIX_LEVELS else None
        workdir = None if self.level == "bwrap" else tempfile.mkdtemp(prefix="ia-sandbox-")
        if workdir and uid is not None:
            os.chown(workdir, uid, uid)
        info_read = info_write = None
        if self.level == "bwrap":
            info_read, info_write = os.pipe()
        setup = self._sample_setup(limits, uid is not None)
        extra = (info_write,) if info_write is not None else ()
        try:
            proc, frame = spawn(
                self._sample_command(limits.tmpfs_mb, info_write),
                "sample-zygote" if control is not None else "sample",
                setup,
                python=self.python,
                fds=fds,
                extra_fds=extra,
                control=control,
                uid=uid,
                cwd=workdir,
            )
        except OSError as error:
            for fd in (info_read, info_write):
                if fd is not None:
                    os.close(fd)
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            raise SandboxUnavailable(
                _("cannot start the sandbox ({level}): {error}").format(level=self.level, error=error)
            ) from error
        if info_write is not None:
            os.close(info_write)
        return Child(proc, uid, workdir, info_read, tmpfs_mb=limits.tmpfs_mb), frame

    def _judge_setup(self, code: str, test: str, entry_point: str, limits: Limits, prompt: str) -> dict:
        return {
            "program": code,
            "test": test,
            "entry_point": entry_point,
            "prompt": prompt,
            "timeout": limits.timeout_s,
        }

    def _start_judge(
        self, setup: dict | None, fds: tuple[int, ...] = (), control: int | None = None
    ) -> tuple[Child, bytes]:
        """Start the judge (outside any sandbox, under our own uid, with this interpreter)."""
        try:
            proc, frame = spawn(
                harness_command(sys.executable),
                "judge-zygote" if control is not None else "judge",
                setup or {},
                python=sys.executable,
                fds=fds,
                control=control,
                stdout=subprocess.PIPE if control is None else subprocess.DEVNULL,
            )
        except OSError as error:
            raise SandboxUnavailable(_("cannot start the judge: {error}").format(error=error)) from error
        return Child(proc), frame

    def _finish(self, child: Child, kill: bool) -> None:
        """Make sure nothing a harness (and the sample in it) started survives, then release its resources."""
        proc = child.proc
        try:
            if not kill:
                try:
                    proc.wait(timeout=_SAMPLE_GRACE_S)
                except subprocess.TimeoutExpired:
                    kill = True
            if kill or self.level in ("rlimits", "process", "job"):
                kill_tree(proc)
            proc.wait()
            if child.info_read is not None:
                reap_namespace(child.info_read)
            if child.uid is not None and (kill or self.level != "bwrap"):
                kill_uid(child.uid)
        finally:
            if child.info_read is not None:
                os.close(child.info_read)
                child.info_read = None
            if child.workdir:
                shutil.rmtree(child.workdir, ignore_errors=True)
            for stream in (proc.stdin, proc.stdout):
                if stream is not None:
                    with contextlib.suppress(OSError):
                        stream.close()

    # -- running -----------------------------------------------------------------------------------------
    def run(
        self,
        code: str,
        test: str = "",
        entry_point: str = "",
        limits: Limits | None = None,
        *,
        prompt: str = "",
    ) -> SampleResult:
        """Load ``code`` in the sandbox, run ``test`` (and ``check(entry_point)``) in the judge; passed only if
        the test ran to its end. ``prompt`` is the problem's prompt: the trusted source of the helpers the
        test may call (they are never taken from ``code``)."""
        limits = limits or Limits()
        started = time.monotonic()
        setup = self._judge_setup(code, test, entry_point, limits, prompt)
        pool = self._pool
        if pool is not None:
            outcome = self._run_pooled(pool, setup, limits)
            if outcome is not None:
                verdict, returncode = outcome
                return self._result(verdict, returncode, started)
        verdict, returncode = self._run_cold(setup, limits)
        return self._result(verdict, returncode, started)

    def _run_cold(self, setup: dict, limits: Limits) -> tuple[dict | None, int | None]:
        to_sample = os.pipe()
        from_sample = os.pipe()
        host_ends = list(to_sample + from_sample)
        sample = judge = None
        try:
            sample, sample_frame = self._start_sample(limits, fds=(to_sample[0], from_sample[1]))
            judge, judge_frame = self._start_judge(setup, fds=(to_sample[1], from_sample[0]))
        except BaseException:
            for child in (sample, judge):
                if child is not None:
                    self._finish(child, kill=True)
            raise
        finally:
            for fd in host_ends:
                os.close(fd)
        # Both interpreters start at once: each boot frame is written as soon as its process reads it.
        writer = threading.Thread(target=write_boot, args=(sample.proc, sample_frame), daemon=True)
        writer.start()
        write_boot(judge.proc, judge_frame)
        deadline = time.monotonic() + limits.timeout_s + _JUDGE_SLACK_S
        verdict = _read_verdict(judge.proc, deadline)
        writer.join()
        self._finish(judge, kill=verdict is None)
        timed_out = verdict is None or verdict.get("reason") == "timeout"
        self._finish(sample, kill=timed_out)
        return verdict, sample.proc.returncode

    def _start_pair(self, tmpfs_mb: int) -> ZygotePair:
        sample_sock, sample_far = socket.socketpair()
        judge_sock, judge_far = socket.socketpair()
        try:
            sample, sample_frame = self._start_sample(Limits(tmpfs_mb=tmpfs_mb), control=sample_far.fileno())
            try:
                judge, judge_frame = self._start_judge(None, control=judge_far.fileno())
            except BaseException:
                self._finish(sample, kill=True)
                raise
        except BaseException:
            sample_sock.close()
            judge_sock.close()
            raise
        finally:
            sample_far.close()
            judge_far.close()
        write_boot(sample.proc, sample_frame)
        write_boot(judge.proc, judge_frame)
        sample.sock, judge.sock = sample_sock, judge_sock
        return ZygotePair(sample, judge)

    def _run_pooled(
        self, pool: ZygotePool, setup: dict, limits: Limits
    ) -> tuple[dict | None, int | None] | None:
        """Run one sample on a worker's zygote pair; None when the pair was unusable before the sample ran."""
        pair = pool.take(limits.tmpfs_mb)
        own_uid = pair.sample.uid is not None
        to_sample = os.pipe()
        from_sample = os.pipe()
        try:
            sample_ok = send_with_fds(
                pair.sample.sock, self._sample_setup(limits, own_uid), [to_sample[0], from_sample[1]]
            )
            judge_ok = sample_ok and send_with_fds(pair.judge.sock, setup, [to_sample[1], from_sample[0]])
        finally:
            for fd in to_sample + from_sample:
                os.close(fd)
        if not (sample_ok and judge_ok):
            pool.discard(pair.sample, kill=True)
            pool.discard(pair.judge, kill=True)
            return None
        deadline = time.monotonic() + limits.timeout_s + _JUDGE_SLACK_S
        verdict = recv_with_deadline(pair.judge.sock, deadline)
        if not isinstance(verdict, dict):  # the judge hung or died: neither zygote can be trusted to be idle
            pool.discard(pair.sample, kill=True)
            pool.discard(pair.judge, kill=True)
            return None, None
        if verdict.get("reason") == "timeout":  # the sample may still be running: destroy its sandbox
            pool.discard(pair.sample, kill=True)
            pool.discard(pair.judge, kill=False)
            return verdict, None
        if verdict.get("reason") != "ended":
            pair.pending = True  # its clean-up report is collected when the pair is next taken
            pool.give_back(pair)
            return verdict, None
        # The sample's process ended mid-call: its exit status says why (a limit, a signal, an exit).
        report = recv_with_deadline(pair.sample.sock, time.monotonic() + _SAMPLE_GRACE_S)
        returncode = report.get("returncode") if isinstance(report, dict) else None
        if isinstance(report, dict) and report.get("clean") is True:
            pool.give_back(pair)
        else:
            pool.discard(pair.sample, kill=True)
            pool.discard(pair.judge, kill=False)
        return verdict, returncode

    def _settle(self, pair: ZygotePair) -> bool:
        """Collect the clean-up report of the pair's last sample; False when the sample zygote is unusable."""
        if not pair.pending:
            return True
        report = recv_with_deadline(pair.sample.sock, time.monotonic() + _SAMPLE_GRACE_S)
        pair.pending = False
        return isinstance(report, dict) and report.get("clean") is True

    def _result(self, verdict: dict | None, returncode: int | None, started: float) -> SampleResult:
        passed, result, reason = _final(verdict, returncode)
        if returncode in _SETUP_FAILURES and not passed:
            result, reason = f"failed: the sandbox could not {_SETUP_FAILURES[returncode]}", "exception"
        return SampleResult(passed, result, time.monotonic() - started, self.level, reason)

    @contextlib.contextmanager
    def prewarmed(self, workers: int) -> Iterator[Sandbox]:
        """Within the block, samples run on long-lived per-worker zygote pairs (bwrap only; see ZygotePool)."""
        if workers < 1 or self._pool is not None or self.level != "bwrap" or not POSIX:
            yield self
            return
        self._pool = ZygotePool(self._start_pair, self._finish, self._settle)
        try:
            yield self
        finally:
            pool, self._pool = self._pool, None
            pool.close()


def _read_verdict(proc: subprocess.Popen, deadline: float) -> dict | None:
    """The judge's verdict record from its standard output, or None (it died, or the deadline passed)."""
    import json

    try:
        out, _err = proc.communicate(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return None
    if len(out) < 4:
        return None
    try:
        verdict = json.loads(out[4 : 4 + int.from_bytes(out[:4], "big")])
    except ValueError:
        return None
    return verdict if isinstance(verdict, dict) else None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except (ValueError, AttributeError):
        return str(number)


def _final(verdict: dict | None, returncode: int | None) -> tuple[bool, str, str]:
    """(passed, result, reason) from the judge's verdict and how the sample's process ended."""
    if verdict is None:
        return False, "timed out", "timeout"
    passed = verdict.get("passed") is True
    result = str(verdict.get("result", "failed: no verdict"))
    reason = str(verdict.get("reason", "exception"))
    if passed:
        return True, "passed", "passed"
    if reason != "ended":
        return False, result, reason if reason in REASONS else "exception"
    # The sample's process ended in the middle: say how, from its exit status.
    if returncode is None:
        return False, "failed: the process of the code under test ended", "exception"
    signum = -returncode if returncode < 0 else returncode - 128 if returncode > 128 else 0
    if signum and signum == getattr(signal, "SIGXCPU", None):
        return False, "timed out", "timeout"
    if signum:
        name = _signal_name(signum)
        if name == "SIGXFSZ":
            return False, "failed: killed by SIGXFSZ (file size limit)", "resource limit"
        if name == "SIGSYS":
            return False, "failed: killed by SIGSYS (a system call the sandbox forbids)", "exception"
        return False, f"failed: killed by {name} (memory, CPU or process limit?)", "resource limit"
    return (
        False,
        f"failed: the code under test exited with status {returncode} before the check finished",
        ("exception"),
    )

"""Resource measurement for benchmark runs: the model server's CPU and memory (psutil), GPU memory (nvidia-smi).

A `ResourceMonitor` samples the server process in the background; each generated sample asks for the usage
within its own time window, so one monitor serves every worker of a host.
"""

from __future__ import annotations

import bisect
import ipaddress
import os
import shutil
import statistics
import subprocess
import threading
import time
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import psutil

__all__ = [
    "ResourceMonitor",
    "ResourceUsage",
    "find_server_pid",
    "gpu_memory_used_mb",
    "is_local_host",
    "speed_stats",
]

_LOCAL_NAMES = {"localhost", "localhost.localdomain", ""}


@dataclass
class ResourceUsage:
    """Usage of the model server while one sample was generated (None when not measurable)."""

    cpu_percent: float | None = None  # mean CPU of the server process (100 = one core busy)
    cpu_percent_max: float | None = None
    rss_mb: float | None = None  # peak resident memory of the server process
    ram_percent: float | None = None  # system-wide memory in use, peak
    gpu_mem_mb: float | None = None  # peak GPU memory in use (all GPUs), when nvidia-smi exists

    def to_dict(self) -> dict[str, float | None]:
        return asdict(self)


def is_local_host(url: str) -> bool:
    """True when the server URL points at this machine (loopback or one of our addresses); an OpenAI-compatible
    host may be written openai:URL."""
    url = url.removeprefix("openai:")
    host = urlsplit(url if "://" in url else f"http://{url}").hostname or ""
    if host.lower() in _LOCAL_NAMES:
        return True
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if ip.is_loopback or ip.is_unspecified:
        return True
    local_ips = {a.address.split("%")[0] for addrs in psutil.net_if_addrs().values() for a in addrs}
    return str(ip) in local_ips


def find_server_pid(url: str) -> int | None:
    """The pid of the local process listening on the URL's port, or None (remote host or not visible)."""
    if not is_local_host(url):
        return None
    url = url.removeprefix("openai:")
    parts = urlsplit(url if "://" in url else f"http://{url}")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        conns = psutil.net_connections(kind="tcp")
    except (psutil.AccessDenied, PermissionError):
        conns = []
    for conn in conns:
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port and conn.pid:
            return conn.pid
    # Threads of this very process (the embedded server) always show up in our own connections.
    try:
        for conn in psutil.Process(os.getpid()).net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
                return os.getpid()
    except psutil.Error:
        pass
    return None


def gpu_memory_used_mb() -> float | None:
    """Total GPU memory in use as reported by nvidia-smi, or None when there is no NVIDIA GPU/tool."""
    exe = shutil.which("nvidia-smi")
    if not exe:
        return None
    try:
        out = subprocess.run(
            [exe, "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
            capture_output=True,
            text=True,
            timeout=5,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if out.returncode != 0:
        return None
    values = [float(v) for v in out.stdout.split() if v.replace(".", "", 1).isdigit()]
    return sum(values) if values else None


@dataclass
class _Point:
    t: float
    cpu: float | None
    rss_mb: float | None
    ram_percent: float
    gpu_mb: float | None


class ResourceMonitor:
    """Samples one server process (and the GPU) every `interval` seconds in a daemon thread."""

    def __init__(self, pid: int | None, *, interval: float = 0.25, gpu_interval: float = 2.0) -> None:
        self.pid = pid
        self.interval = interval
        self.gpu_interval = gpu_interval
        self._proc = self._open(pid)
        self._points: list[_Point] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._gpu_enabled = shutil.which("nvidia-smi") is not None
        self._cpus = psutil.cpu_count() or 1

    @staticmethod
    def _open(pid: int | None) -> psutil.Process | None:
        if pid is None:
            return None
        try:
            proc = psutil.Process(pid)
            proc.cpu_percent(None)  # prime: the first call always returns 0.0
            return proc
        except psutil.Error:
            return None

    @property
    def measures_process(self) -> bool:
        return self._proc is not None

    def start(self) -> ResourceMonitor:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="bench-metrics", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ResourceMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _loop(self) -> None:
        gpu_mb: float | None = None
        next_gpu = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            if self._gpu_enabled and now >= next_gpu:
                gpu_mb = gpu_memory_used_mb()
                next_gpu = now + self.gpu_interval
            self._record(gpu_mb)
            self._stop.wait(self.interval)

    def _record(self, gpu_mb: float | None) -> None:
        cpu = rss = None
        if self._proc is not None:
            try:
                with self._proc.oneshot():
                    cpu = min(self._proc.cpu_percent(None), 100.0 * self._cpus)
                    rss = self._proc.memory_info().rss / 2**20
            except psutil.Error:
                self._proc = None
        point = _Point(time.monotonic(), cpu, rss, psutil.virtual_memory().percent, gpu_mb)
        with self._lock:
            self._points.append(point)
            if len(self._points) > 20000:  # bound memory on very long runs
                del self._points[:10000]

    def usage(self, start: float, end: float) -> ResourceUsage:
        """Usage between two `time.monotonic()` instants; takes one fresh reading so short windows count."""
        last = self._points[-1] if self._points else None
        if last is None or time.monotonic() - last.t >= self.interval / 2:  # shorter CPU intervals are noise
            self._record(last.gpu_mb if last else None)
        with self._lock:
            times = [p.t for p in self._points]
            lo = bisect.bisect_left(times, start)
            hi = bisect.bisect_right(times, end + self.interval)
            window = self._points[lo:hi] or self._points[-1:]
        cpus = [p.cpu for p in window if p.cpu is not None]
        rss = [p.rss_mb for p in window if p.rss_mb is not None]
        gpus = [p.gpu_mb for p in window if p.gpu_mb is not None]
        return ResourceUsage(
            cpu_percent=round(statistics.fmean(cpus), 1) if cpus else None,
            cpu_percent_max=round(max(cpus), 1) if cpus else None,
            rss_mb=round(max(rss), 1) if rss else None,
            ram_percent=round(max(p.ram_percent for p in window), 1) if window else None,
            gpu_mem_mb=round(max(gpus), 1) if gpus else None,
        )


def speed_stats(values: list[float | None]) -> tuple[float | None, float | None]:
    """Median and 90th percentile (nearest-rank) of the non-missing values."""
    data = sorted(v for v in values if v is not None)
    if not data:
        return None, None
    rank = max(1, -(-9 * len(data) // 10))  # ceil(0.9 * n)
    return statistics.median(data), data[rank - 1]

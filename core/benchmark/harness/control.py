"""The host's control messages to a harness process: length-prefixed marshal frames, with file descriptors
passed alongside on a Unix socket (SCM_RIGHTS) for the long-lived zygotes of batch mode.

Only the host, which is trusted, writes these; the harness processes read them before any sample code runs
(the judge's side never runs sample code at all).
"""

from __future__ import annotations

import marshal
import os

__all__ = ["open_inherited", "read_boot", "recv_message", "send_message"]

MAX_CONTROL = 256 * 1024 * 1024


def read_boot(fd: int = 0) -> dict:
    """The boot frame a harness process reads on its standard input (4-byte length + marshal body)."""
    header = _read_exact(fd, 4)
    if header is None:
        raise EOFError("no boot frame")
    body = _read_exact(fd, int.from_bytes(header, "big"))
    if body is None:
        raise EOFError("boot frame cut short")
    return marshal.loads(body)


def _read_exact(fd: int, size: int) -> bytes | None:
    chunks = []
    while size:
        chunk = os.read(fd, min(size, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        size -= len(chunk)
    return b"".join(chunks)


def send_message(sock, payload: object, fds: list[int] = ()) -> None:
    """Send one marshal frame, with ``fds`` attached to its first bytes (``sock``: a Unix socket)."""
    import socket

    body = marshal.dumps(payload)
    data = len(body).to_bytes(4, "big") + body
    sent = socket.send_fds(sock, [data], list(fds)) if fds else sock.send(data)
    if sent < len(data):
        sock.sendall(data[sent:])


def recv_message(sock, max_fds: int = 4) -> tuple[object, list[int]] | None:
    """One frame and the descriptors that came with it; None when the other side hung up."""
    import socket

    data, fds, _flags, _addr = socket.recv_fds(sock, 4, max_fds)
    if not data:
        for fd in fds:
            os.close(fd)
        return None
    while len(data) < 4:
        more = sock.recv(4 - len(data))
        if not more:
            return None
        data += more
    size = int.from_bytes(data, "big")
    if size > MAX_CONTROL:
        raise ValueError("control frame too large")
    chunks, remaining = [], size
    while remaining:
        chunk = sock.recv(min(remaining, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return marshal.loads(b"".join(chunks)), list(fds)


def open_inherited(value: int) -> int:
    """A descriptor passed by the host: the number itself on POSIX, an inherited handle on Windows."""
    if os.name == "nt":
        import msvcrt

        return msvcrt.open_osfhandle(value, 0)
    return value

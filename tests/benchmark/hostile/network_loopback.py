# Connects to a server the test runs on loopback; passes only if the connection worked.
import socket

with socket.create_connection(("127.0.0.1", int("__PORT__")), timeout=2) as conn:
    conn.sendall(b"escaped")


def solve(x):
    return x * x

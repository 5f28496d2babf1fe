"""Loopback ports for the broker, and a probe that a Kafka broker really serves requests."""

from __future__ import annotations

import socket
import struct
from contextlib import ExitStack

HOST = "127.0.0.1"

_API_VERSIONS_KEY = 18
_CORRELATION_ID = 0x5F0F
_CLIENT_ID = b"streamforge-probe"


def free_ports(count: int) -> list[int]:
    """``count`` distinct ports that are free on the loopback address right now."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind((HOST, 0))
        return [sock.getsockname()[1] for sock in sockets]


def port_is_free(port: int) -> bool:
    """Whether a listener could bind ``port`` on the loopback address."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, port))
        except OSError:
            return False
    return True


def kafka_answers(host: str, port: int, timeout: float = 1.0) -> bool:
    """Whether a broker at ``host:port`` answers an ApiVersions request without error.

    A KRaft broker accepts TCP connections before it serves requests; it answers only once it
    has joined the cluster, so an answer means clients can produce and consume.
    """
    header = struct.pack(">hhih", _API_VERSIONS_KEY, 0, _CORRELATION_ID, len(_CLIENT_ID))
    request = header + _CLIENT_ID
    try:
        with socket.create_connection((host, port), timeout=timeout) as sock:
            sock.sendall(struct.pack(">i", len(request)) + request)
            response = _receive(sock, 10)
    except OSError:
        return False
    if response is None:
        return False
    _size, correlation_id, error_code = struct.unpack(">iih", response)
    return bool(correlation_id == _CORRELATION_ID and error_code == 0)


def _receive(sock: socket.socket, size: int) -> bytes | None:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            return None
        data += chunk
    return data

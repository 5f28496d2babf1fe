"""A minimal, fast WebSocket reader that counts frames, to measure the benchmark mode.

``python -m streamforge.simulator.benchclient ws://127.0.0.1:PORT/ws/btcusdt@aggTrade --seconds 5``
prints frames, bytes and frames per second. It speaks just enough of RFC 6455 to read a server's
unmasked frames, so the simulator, not the client, is what gets measured.
"""

from __future__ import annotations

import argparse
import base64
import os
import socket
import time
from typing import NamedTuple
from urllib.parse import urlsplit


class BenchResult(NamedTuple):
    """What a run received."""

    frames: int
    size: int
    seconds: float
    first_payload: bytes

    @property
    def frames_per_second(self) -> float:
        """Received frames per second."""
        return self.frames / self.seconds


def _handshake(sock: socket.socket, host: str, path: str) -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    )
    sock.sendall(request.encode())
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("closed during the handshake")
        response += chunk
    head, _, rest = response.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise ConnectionError(head.decode(errors="replace"))
    return rest


def count_frames(url: str, seconds: float) -> BenchResult:
    """Read frames from ``url`` for ``seconds`` and count them."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    with socket.create_connection((parts.hostname, parts.port or 80)) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        buffer = _handshake(sock, parts.netloc, path)
        frames = total = 0
        first = b""
        start = time.perf_counter()
        deadline = start + seconds
        while time.perf_counter() < deadline:
            chunk = sock.recv(1 << 20)
            if not chunk:
                break
            total += len(chunk)
            buffer += chunk
            position, size = 0, len(buffer)
            while position + 2 <= size:
                length = buffer[position + 1] & 0x7F
                header = 2
                if length == 126:
                    header = 4
                    length = int.from_bytes(buffer[position + 2 : position + 4], "big")
                elif length == 127:
                    header = 10
                    length = int.from_bytes(buffer[position + 2 : position + 10], "big")
                if position + header + length > size:
                    break
                if not first:
                    first = bytes(buffer[position + header : position + header + length])
                position += header + length
                frames += 1
            buffer = buffer[position:]
        return BenchResult(frames, total, time.perf_counter() - start, first)


def main() -> None:
    """Command line entry: print what a run received."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    result = count_frames(args.url, args.seconds)
    print(
        f"frames={result.frames} bytes={result.size} seconds={result.seconds:.2f} "
        f"frames_per_s={result.frames_per_second:.0f}"
    )


if __name__ == "__main__":
    main()

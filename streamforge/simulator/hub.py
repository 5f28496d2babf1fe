"""Who listens to which stream, and fan-out of one event to its listeners."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol


class Listener(Protocol):
    """A connection as the hub sees it."""

    @property
    def combined(self) -> bool:
        """Whether frames are wrapped as ``{"stream": ..., "data": ...}``."""
        ...

    def push(self, frame: bytes) -> None:
        """Queue a market-data frame without waiting."""
        ...


def wrap(stream: str, payload: bytes) -> bytes:
    """The combined-stream frame of a payload."""
    return b'{"stream":"' + stream.encode() + b'","data":' + payload + b"}"


class Hub:
    """Subscriptions of all connections; :meth:`publish` renders each frame form once."""

    def __init__(self) -> None:
        self.connections: set[Listener] = set()
        self._listeners: dict[str, set[Listener]] = {}
        self._on_attach: list[Callable[[], None]] = []

    def on_attach(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` whenever a connection attaches (the live feed wakes up)."""
        self._on_attach.append(callback)

    def attach(self, connection: Listener) -> None:
        """Register an open connection."""
        self.connections.add(connection)
        for callback in self._on_attach:
            callback()

    def detach(self, connection: Listener) -> None:
        """Forget a closed connection and its subscriptions."""
        self.connections.discard(connection)
        for listeners in self._listeners.values():
            listeners.discard(connection)

    def subscribe(self, connection: Listener, streams: Iterable[str]) -> None:
        """Add streams to a connection."""
        for stream in streams:
            self._listeners.setdefault(stream, set()).add(connection)

    def unsubscribe(self, connection: Listener, streams: Iterable[str]) -> None:
        """Remove streams from a connection."""
        for stream in streams:
            self._listeners.get(stream, set()).discard(connection)

    def active(self, stream: str) -> bool:
        """Whether anybody listens to ``stream``."""
        return bool(self._listeners.get(stream))

    def publish(self, stream: str, payload: bytes) -> None:
        """Send a payload to every listener of ``stream``."""
        listeners = self._listeners.get(stream)
        if not listeners:
            return
        wrapped = None
        for listener in tuple(listeners):
            if listener.combined:
                if wrapped is None:
                    wrapped = wrap(stream, payload)
                listener.push(wrapped)
            else:
                listener.push(payload)

"""What a service is: a named unit of work run by :class:`~streamforge.services.host.ServiceHost`.

A service implements :meth:`Service.run`, reports progress through its
:class:`ServiceContext` and returns the payload of its ``finished`` event. The host does the
rest for every service alike: ``started``, periodic ``loading``, ``pong``, ``stop``, SIGTERM,
exactly one terminal event, metrics and health.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from streamforge.bus import BusProducer
from streamforge.config import Settings
from streamforge.schemas import Command


class CommandRejected(ValueError):
    """A service refuses a command; the message is the reason, ``field`` what was wrong."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason


@dataclass
class Progress:
    """The latest progress a service reported; sent in each ``loading`` event."""

    fraction: float | None = None
    records_written: int = 0
    message: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    def payload(self) -> dict[str, Any]:
        """The ``loading`` event payload."""
        body: dict[str, Any] = {"records_written": self.records_written, **self.extra}
        if self.fraction is not None:
            body["progress"] = round(self.fraction, 6)
        if self.message:
            body["message"] = self.message
        return body


@dataclass
class ServiceContext:
    """What a running service may use: settings, the producer, progress and the stop signal."""

    settings: Settings
    queue_id: str
    instance: str
    producer: BusProducer
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    progress: Progress = field(default_factory=Progress)

    def report(
        self,
        fraction: float | None = None,
        *,
        records_written: int | None = None,
        message: str | None = None,
        **extra: Any,
    ) -> None:
        """Record progress; the host publishes it with the next ``loading`` event."""
        if fraction is not None:
            self.progress.fraction = min(max(fraction, 0.0), 1.0)
        if records_written is not None:
            self.progress.records_written = records_written
        if message is not None:
            self.progress.message = message
        self.progress.extra.update(extra)


class Service(ABC):
    """A StreamForge service. Subclasses set :attr:`name` and implement :meth:`run`."""

    name: ClassVar[str]

    @abstractmethod
    async def run(self, ctx: ServiceContext) -> dict[str, Any]:
        """Do the work; return the ``finished`` payload. Return early once ``ctx.stopping``
        is set (the host cancels the task if it does not within the grace period)."""

    async def on_command(self, command: Command, ctx: ServiceContext) -> dict[str, Any]:
        """Handle a service-specific command (not ``ping``/``stop``); return the reply payload.

        Raise :class:`CommandRejected` to refuse it; the default refuses everything.
        """
        raise CommandRejected("command", f"{self.name} does not accept {command.command.value!r}")

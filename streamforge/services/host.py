"""The lifecycle every service shares, implemented once.

:class:`ServiceHost` runs one :class:`~streamforge.services.base.Service` for one ``queue_id``:

* listens on ``queue-control`` for commands addressed to its queue id (or ``*``) and its
  service name (or ``*``); each ``command_id`` takes effect once;
* publishes ``started``, ``loading`` every ``loading_interval`` seconds, ``pong`` for ``ping``;
* ends with exactly one terminal event: ``finished`` (the service returned), ``error`` (it
  raised) or ``interrupted`` (``stop``, SIGTERM or SIGINT);
* serves ``/health`` and ``/metrics``;
* adds its ``tags`` (a workflow step's ``step`` and ``attempt``) to every event payload, so
  that the queue-manager knows which step an event reports on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import time
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import msgspec
from prometheus_client import Gauge

from streamforge.bus import BusConsumer, BusProducer, ConsumerOptions
from streamforge.bus.consumer import Batch
from streamforge.bus.topics import CONTROL, EVENTS
from streamforge.config import Settings
from streamforge.schemas import (
    Command,
    CommandName,
    Event,
    EventName,
    RawCodec,
    encode,
    error_field,
)
from streamforge.services.base import CommandRejected, Service, ServiceContext
from streamforge.services.http import ObservabilityServer
from streamforge.services.logs import bind_context

log = logging.getLogger(__name__)

PROGRESS = Gauge(
    "streamforge_service_progress", "Progress of the run, 0..1", ["service", "queue_id"]
)
UP = Gauge("streamforge_service_up", "1 while the service runs", ["service", "queue_id"])

EXIT_FINISHED = 0
EXIT_ERROR = 1
EXIT_INTERRUPTED = 130

_command_decoder = msgspec.json.Decoder(Command)


class ServiceHost:
    """Runs one service with the shared lifecycle; :meth:`run` returns the exit code."""

    def __init__(
        self,
        service: Service,
        settings: Settings,
        queue_id: str,
        *,
        loading_interval: float = 2.0,
        stop_grace: float = 10.0,
        handle_signals: bool = True,
        tags: Mapping[str, str | int] | None = None,
    ) -> None:
        self.service = service
        self.settings = settings
        self.queue_id = queue_id
        self.instance = f"{socket.gethostname()}-{os.getpid()}"
        self.producer_name = f"{service.name}__{self.instance}"
        self.loading_interval = loading_interval
        self.stop_grace = stop_grace
        self.handle_signals = handle_signals
        self.tags = dict(tags or {})
        self.state = "starting"
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._terminal_sent = False
        self._started_at = time.monotonic()
        self._stop_requested = asyncio.Event()
        self._events_topic = settings.topic(EVENTS)

    async def run(self) -> int:
        """Run the service to its end; publish its terminal event; return the exit code."""
        bind_context(service=self.service.name, queue_id=self.queue_id, instance=self.instance)
        producer = BusProducer(self.settings)
        await producer.start()
        ctx = ServiceContext(self.settings, self.queue_id, self.instance, producer)
        server = ObservabilityServer(self._health, port=self.settings.metrics_port)
        control = BusConsumer(
            self.settings,
            [self.settings.topic(CONTROL)],
            RawCodec(),
            options=ConsumerOptions(group_id=None, from_beginning=False, poll_timeout_ms=100),
        )
        tasks: list[asyncio.Task[Any]] = []
        try:
            await server.start()
            await control.start()
            self._install_signal_handlers()
            UP.labels(self.service.name, self.queue_id).set(1)
            self.state = "running"
            await self._emit(
                ctx,
                EventName.STARTED,
                {"service": self.service.name, "pid": os.getpid(), "metrics_port": server.port},
            )
            log.info("started", extra={"metrics_port": server.port})
            work = asyncio.create_task(self.service.run(ctx), name=f"{self.service.name}-run")
            tasks = [
                asyncio.create_task(self._follow_control(control, ctx)),
                asyncio.create_task(self._report_loading(ctx)),
            ]
            stop_wait = asyncio.create_task(self._stop_requested.wait())
            await asyncio.wait({work, stop_wait}, return_when=asyncio.FIRST_COMPLETED)
            stop_wait.cancel()
            if not work.done():
                return await self._interrupt(ctx, work)
            return await self._conclude(ctx, work)
        finally:
            self.state = "stopped"
            UP.labels(self.service.name, self.queue_id).set(0)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._remove_signal_handlers()
            await control.stop()
            await server.stop()
            await producer.stop()

    def request_stop(self) -> None:
        """Stop as if a ``stop`` command had arrived (used for SIGTERM/SIGINT)."""
        self._stop_requested.set()

    async def _interrupt(self, ctx: ServiceContext, work: asyncio.Task[dict[str, Any]]) -> int:
        self.state = "stopping"
        ctx.stopping.set()
        done, _ = await asyncio.wait({work}, timeout=self.stop_grace)
        if not done:
            work.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await work
        elif work.exception() is not None:
            return await self._conclude(ctx, work)
        await self._emit(ctx, EventName.INTERRUPTED, ctx.progress.payload())
        log.info("interrupted")
        return EXIT_INTERRUPTED

    async def _conclude(self, ctx: ServiceContext, work: asyncio.Task[dict[str, Any]]) -> int:
        exc = work.exception()
        if exc is not None:
            self.state = "error"
            log.error("failed: %s", exc, exc_info=exc)
            payload = {
                **ctx.progress.payload(),
                "reason": str(exc) or type(exc).__name__,
                "error_type": type(exc).__name__,
            }
            await self._emit(ctx, EventName.ERROR, payload)
            return EXIT_ERROR
        self.state = "finished"
        payload = {**ctx.progress.payload(), **(work.result() or {})}
        await self._emit(ctx, EventName.FINISHED, payload)
        log.info("finished")
        return EXIT_FINISHED

    async def _emit(self, ctx: ServiceContext, name: EventName, payload: dict[str, Any]) -> None:
        terminal = Event.new(name, self.queue_id, self.producer_name, {**payload, **self.tags})
        if terminal.is_terminal:
            if self._terminal_sent:
                return
            self._terminal_sent = True
        await ctx.producer.send(self._events_topic, encode(terminal), key=self.queue_id.encode())

    async def _report_loading(self, ctx: ServiceContext) -> None:
        while True:
            await asyncio.sleep(self.loading_interval)
            if ctx.progress.fraction is not None:
                PROGRESS.labels(self.service.name, self.queue_id).set(ctx.progress.fraction)
            await self._emit(ctx, EventName.LOADING, ctx.progress.payload())

    async def _follow_control(self, control: BusConsumer[bytes], ctx: ServiceContext) -> None:
        async def handle(batch: Batch[bytes]) -> None:
            for raw in batch.values:
                await self._on_control(raw, ctx)

        while True:
            try:
                await control.poll(handle)
            except asyncio.CancelledError:
                raise
            except Exception:  # a control-plane hiccup must not end the service
                log.exception("control loop error")
                await asyncio.sleep(1)

    async def _on_control(self, raw: bytes, ctx: ServiceContext) -> None:
        try:
            command = _command_decoder.decode(raw)
        except msgspec.DecodeError as exc:
            await self._reject_invalid(raw, str(exc), ctx)
            return
        if not command.addresses(self.queue_id, self.service.name):
            return
        if command.command_id in self._seen:
            return
        self._seen[command.command_id] = None
        if len(self._seen) > 10_000:
            self._seen.popitem(last=False)
        reply_to = {"command_id": command.command_id}
        if command.command is CommandName.PING:
            await self._emit(
                ctx,
                EventName.PONG,
                {
                    **reply_to,
                    "service": self.service.name,
                    "state": self.state,
                    "uptime_s": round(time.monotonic() - self._started_at, 3),
                },
            )
        elif command.command is CommandName.STOP:
            log.info("stop requested by %s", command.issued_by)
            self.request_stop()
        else:
            try:
                result = await self.service.on_command(command, ctx)
            except CommandRejected as exc:
                if command.target == self.service.name:
                    await self._emit(
                        ctx,
                        EventName.REJECTED,
                        {**reply_to, "field": exc.field, "reason": exc.reason},
                    )
                return
            await self._emit(ctx, EventName.ACCEPTED, {**reply_to, **result})

    async def _reject_invalid(self, raw: bytes, reason: str, ctx: ServiceContext) -> None:
        """Answer an invalid command only when it is plainly meant for this service."""
        try:
            loose = msgspec.json.decode(raw)
        except msgspec.DecodeError:
            return  # not even JSON: the queue-manager answers for it
        if not isinstance(loose, dict) or loose.get("target") != self.service.name:
            return
        if loose.get("queue_id") not in ("*", self.queue_id):
            return
        await self._emit(
            ctx,
            EventName.REJECTED,
            {
                "command_id": str(loose.get("command_id", "")),
                "field": error_field(reason),
                "reason": reason,
            },
        )

    def _health(self) -> tuple[bool, dict[str, Any]]:
        healthy = self.state in ("starting", "running", "finished")
        return healthy, {
            "status": "ok" if healthy else "unhealthy",
            "service": self.service.name,
            "queue_id": self.queue_id,
            "instance": self.instance,
            "state": self.state,
        }

    def _install_signal_handlers(self) -> None:
        if not self.handle_signals:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.request_stop)

    def _remove_signal_handlers(self) -> None:
        if not self.handle_signals:
            return
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)

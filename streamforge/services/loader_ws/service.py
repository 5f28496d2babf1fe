"""loader-ws: live market data from the exchange WebSocket into the ``md.*`` topics.

It streams the symbols it was started with (or, without any, waits for a ``start`` command) until
stopped, or for ``duration`` seconds when run as a Job. Commands (``target: loader-ws``):

* ``start`` ``{"symbols": [...], "streams": [...]}``: stream exactly these symbols (and kinds);
* ``subscribe`` ``{"symbols": [...]}``: add symbols;
* ``unsubscribe`` ``{"symbols": [...]}``: remove subscribed symbols.

A bad payload is rejected naming the field (``payload.symbols[1]``) and the reason. Progress goes
out every ``report_interval`` seconds: ``records_written`` (records published) and the counts of
:class:`~streamforge.services.loader_ws.metrics.LoaderStats`, which also form the final payload.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any, ClassVar

from streamforge.exchanges.binance.rest import BinanceRest
from streamforge.exchanges.binance.trade_json import native_status
from streamforge.schemas import Command, CommandName
from streamforge.services.base import CommandRejected, Service, ServiceContext
from streamforge.services.loader_ws.metrics import MetricsExporter
from streamforge.services.loader_ws.pipeline import LoaderOptions, Pipeline
from streamforge.services.loader_ws.subscriptions import (
    Subscription,
    check_payload,
    parse_kinds,
    parse_symbols,
)

log = logging.getLogger(__name__)


@dataclass
class LoaderWsService(Service):
    """Streams ``symbols`` x ``options.kinds`` into Kafka; symbols change by command."""

    name: ClassVar[str] = "loader-ws"

    symbols: tuple[str, ...] = ()
    options: LoaderOptions = field(default_factory=LoaderOptions)
    duration: float | None = None
    report_interval: float = 1.0
    pipeline: Pipeline | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        if self.symbols:
            self.symbols = parse_symbols(list(self.symbols), "symbols")
        if self.duration is not None and self.duration <= 0:
            raise ValueError(f"duration must be positive, got {self.duration}")

    async def run(self, ctx: ServiceContext) -> dict[str, Any]:
        log.info(native_status())
        async with (
            BinanceRest(ctx.settings.binance.rest_url) as rest,
            Pipeline(ctx.producer, ctx.settings, rest, self.options) as pipeline,
        ):
            exporter = MetricsExporter(pipeline.stats)
            self.pipeline = pipeline
            try:
                if self.symbols:
                    await pipeline.apply(Subscription(self.symbols, self.options.kinds))
                await self._stream(ctx, pipeline, exporter)
            finally:
                self.pipeline = None
        return self._report(ctx, pipeline, exporter)

    async def _stream(
        self, ctx: ServiceContext, pipeline: Pipeline, exporter: MetricsExporter
    ) -> None:
        """Report progress until stopped or ``duration`` has passed."""
        deadline = None if self.duration is None else time.monotonic() + self.duration
        while not ctx.stopping.is_set():
            pipeline.check()
            self._report(ctx, pipeline, exporter)
            wait = self.report_interval
            if deadline is not None:
                wait = min(wait, deadline - time.monotonic())
                if wait <= 0:
                    return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ctx.stopping.wait(), wait)

    def _report(
        self, ctx: ServiceContext, pipeline: Pipeline, exporter: MetricsExporter
    ) -> dict[str, Any]:
        exporter.export()
        stats = pipeline.stats
        symbols = pipeline.subscription.symbols
        counts = {**stats.as_dict(), "symbols": len(symbols)}
        ctx.report(
            None,
            records_written=stats.published,
            message=f"{len(symbols)} symbols: {stats.frames} frames, {stats.published} records",
            **counts,
        )
        return {"records_written": stats.published, **counts}

    async def on_command(self, command: Command, ctx: ServiceContext) -> dict[str, Any]:
        pipeline = self.pipeline
        if command.command not in (
            CommandName.START,
            CommandName.SUBSCRIBE,
            CommandName.UNSUBSCRIBE,
        ):
            return await super().on_command(command, ctx)
        if pipeline is None:
            raise CommandRejected("command", f"{self.name} is not streaming (starting or stopping)")
        payload = command.payload
        if command.command is CommandName.START:
            check_payload(payload, ("symbols", "streams"))
            symbols = parse_symbols(payload.get("symbols"), "payload.symbols")
            kinds = pipeline.subscription.kinds
            if "streams" in payload:
                kinds = parse_kinds(payload["streams"], "payload.streams")
            await pipeline.apply(Subscription(symbols, kinds))
            return {"symbols": list(symbols), "streams": list(kinds)}
        check_payload(payload, ("symbols",))
        symbols = parse_symbols(payload.get("symbols"), "payload.symbols")
        if command.command is CommandName.SUBSCRIBE:
            added = await pipeline.subscribe(symbols)
            return {"added": added, "symbols": list(pipeline.subscription.symbols)}
        subscribed = pipeline.subscription.symbols
        for index, symbol in enumerate(symbols):
            if symbol not in subscribed:
                raise CommandRejected(f"payload.symbols[{index}]", f"{symbol} is not subscribed")
        await pipeline.unsubscribe(symbols)
        return {"removed": list(symbols), "symbols": list(pipeline.subscription.symbols)}

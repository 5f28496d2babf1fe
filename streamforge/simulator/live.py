"""The synthetic market in real time: trades as their time comes, the book, klines and tickers.

One task ticks every 100 ms while any WebSocket client is connected and sleeps otherwise, so an
idle simulator costs nothing. Each tick reveals the history's trades up to now, steps every book
after the last trade, and publishes only the streams somebody listens to. A REST depth request
between ticks (or with nobody connected) advances the market the same way first, so snapshots and
diffs share one sequence of update ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from dataclasses import dataclass, field

import orjson

from streamforge.exchanges.binance.intervals import INTERVALS, Interval
from streamforge.simulator.book import BookSim, DepthEvent, Top
from streamforge.simulator.faults import FaultState
from streamforge.simulator.history import SymbolHistory
from streamforge.simulator.hub import Hub
from streamforge.simulator.klines import select_klines
from streamforge.simulator.payloads import (
    agg_trade_event,
    kline_event,
    levels,
    mini_ticker_event,
    trade_events,
)

TICK_MS = 100
_DEPTH_SLOW_MS = 1000
_TICKER_MS = 1000
_DAY_MS = 86_400_000


def now_ms() -> int:
    """Wall-clock epoch milliseconds."""
    return time.time_ns() // 1_000_000


@dataclass
class _SymbolFeed:
    history: SymbolHistory
    book: BookSim
    name: str
    trades_from: int = 0
    top: Top | None = None
    slow_depth: list[DepthEvent] = field(default_factory=list)
    slow_depth_at: int = 0
    ticker_at: int = 0
    #: Per kline stream: open time of the kline in progress and when it was last pushed.
    klines: dict[str, tuple[int, int]] = field(default_factory=dict)


class LiveFeed:
    """Publishes the market's live streams into the hub."""

    def __init__(
        self,
        histories: dict[str, SymbolHistory],
        hub: Hub,
        faults: FaultState,
        *,
        seed: int,
        book_levels: int,
    ) -> None:
        self._hub = hub
        self._faults = faults
        self._feeds: dict[str, _SymbolFeed] = {}
        for symbol, history in histories.items():
            rng = random.Random(f"{seed}:{symbol}:book")
            book = BookSim(history.spec, rng, book_levels, rng.randrange(10**8, 10**9))
            self._feeds[symbol] = _SymbolFeed(history, book, symbol.lower())
        self._last_tick = 0
        self._task: asyncio.Task[None] | None = None
        hub.on_attach(self._wake)

    def _wake(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        start = now_ms()
        for feed in self._feeds.values():
            feed.trades_from = max(feed.trades_from, start + 1)
        while self._hub.connections:
            self._tick_all(now_ms())
            await asyncio.sleep(TICK_MS / 1000 - (time.time() % (TICK_MS / 1000)))

    async def stop(self) -> None:
        """Stop ticking."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def depth(self, symbol: str, limit: int) -> tuple[int, list[list[str]], list[list[str]]]:
        """A depth snapshot ``(lastUpdateId, bids, asks)`` as text, after catching up to now."""
        self._advance(now_ms())
        feed = self._feeds[symbol]
        update_id, bids, asks = feed.book.snapshot(limit)
        spec = feed.history.spec
        return update_id, levels(spec, bids), levels(spec, asks)

    def _advance(self, now: int) -> None:
        """Run one tick if the last one is at least a tick old."""
        if now - self._last_tick >= TICK_MS:
            self._tick_all(now)

    def _tick_all(self, now: int) -> None:
        self._last_tick = now
        for feed in self._feeds.values():
            self._tick(feed, now)

    def _publish(self, stream: str, payload: object) -> None:
        self._hub.publish(stream, orjson.dumps(payload))

    def _tick(self, feed: _SymbolFeed, now: int) -> None:
        history, spec, name, active = feed.history, feed.history.spec, feed.name, self._hub.active
        if active(f"{name}@aggTrade") or active(f"{name}@trade"):
            for trade in history.trades_between(feed.trades_from, now + 1):
                self._publish(f"{name}@aggTrade", agg_trade_event(spec, trade, now))
                for event in trade_events(spec, trade, now):
                    self._publish(f"{name}@trade", event)
        feed.trades_from = now + 1
        self._step_book(feed, now)
        for interval in INTERVALS.values():
            stream = f"{name}@kline_{interval.name}"
            if active(stream):
                self._kline(feed, stream, interval, now)
            else:
                feed.klines.pop(stream, None)
        if active(f"{name}@miniTicker") and now - feed.ticker_at >= _TICKER_MS:
            feed.ticker_at = now
            bar = history.bar(now - _DAY_MS, now + 1)
            if bar is not None:
                self._publish(f"{name}@miniTicker", mini_ticker_event(spec, bar, now))

    def _step_book(self, feed: _SymbolFeed, now: int) -> None:
        name, active = feed.name, self._hub.active
        event = feed.book.step(now, feed.history.last_trade_before(now + 1))
        if event is not None:
            if active(f"{name}@depth@100ms"):
                self._publish_depth(feed, f"{name}@depth@100ms", event)
            if active(f"{name}@depth"):
                feed.slow_depth.append(event)
            else:
                feed.slow_depth.clear()
        if feed.slow_depth and now - feed.slow_depth_at >= _DEPTH_SLOW_MS:
            feed.slow_depth_at = now
            self._publish_depth(feed, f"{name}@depth", _merge(feed.slow_depth))
            feed.slow_depth.clear()
        top = feed.book.top()
        if top != feed.top:
            feed.top = top
            if active(f"{name}@bookTicker"):
                spec = feed.history.spec
                self._publish(
                    f"{name}@bookTicker",
                    {
                        "u": feed.book.update_id,
                        "s": spec.symbol,
                        "b": spec.price(top.bid),
                        "B": spec.qty(top.bid_qty),
                        "a": spec.price(top.ask),
                        "A": spec.qty(top.ask_qty),
                    },
                )

    def _publish_depth(self, feed: _SymbolFeed, stream: str, event: DepthEvent) -> None:
        if self._faults.take_depth_gap():
            return
        spec = feed.history.spec
        self._publish(
            stream,
            {
                "e": "depthUpdate",
                "E": event.time,
                "s": spec.symbol,
                "U": event.first_update_id,
                "u": event.final_update_id,
                "b": levels(spec, event.bids),
                "a": levels(spec, event.asks),
            },
        )

    def _kline(self, feed: _SymbolFeed, stream: str, interval: Interval, now: int) -> None:
        current = interval.open_time(now)
        open_time, pushed_at = feed.klines.get(stream, (current, 0))
        period = 1000 if interval.name == "1s" else 2000
        if open_time < current:
            self._publish_kline(feed, stream, interval, open_time, now)
            pushed_at = 0
        if now - pushed_at >= period:
            self._publish_kline(feed, stream, interval, current, now)
            pushed_at = now
        feed.klines[stream] = (current, pushed_at)

    def _publish_kline(
        self, feed: _SymbolFeed, stream: str, interval: Interval, open_time: int, now: int
    ) -> None:
        history = feed.history
        for kline in select_klines(
            history, interval, start=open_time, end=open_time, limit=1, now=now
        ):
            closed = kline.close_time < now
            self._publish(stream, kline_event(history.spec, interval.name, kline, closed, now))


def _merge(events: list[DepthEvent]) -> DepthEvent:
    """One event for a run of consecutive events (the 1000 ms diff stream)."""
    bids: dict[int, int] = {}
    asks: dict[int, int] = {}
    for event in events:
        bids.update(event.bids)
        asks.update(event.asks)
    return DepthEvent(
        events[0].first_update_id,
        events[-1].final_update_id,
        events[-1].time,
        sorted(bids.items(), reverse=True),
        sorted(asks.items()),
    )

"""Bulk history files in the public-data layout, with the same content REST serves.

``/data/spot/{daily,monthly}/klines/SYMBOL/INTERVAL/SYMBOL-INTERVAL-DATE.zip`` and
``/data/spot/{daily,monthly}/aggTrades/SYMBOL/SYMBOL-aggTrades-DATE.zip``, each zip holding one
header-less CSV, and a ``.zip.CHECKSUM`` beside it (``<sha256>  <name>``). Timestamps are in
microseconds for data from 2025-01-01 on, milliseconds before, as Binance switched. A period that
has not ended yet does not exist (404), as on the real site.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import zipfile
from collections import OrderedDict
from datetime import UTC, datetime

from aiohttp import web

from streamforge.exchanges.binance.intervals import INTERVALS, Interval
from streamforge.simulator.history import SymbolHistory
from streamforge.simulator.klines import select_klines
from streamforge.simulator.live import now_ms
from streamforge.simulator.market import Market
from streamforge.simulator.payloads import agg_trade_csv, kline_csv

_MICROSECONDS_FROM = int(datetime(2025, 1, 1, tzinfo=UTC).timestamp() * 1000)
_DAY_MS = 86_400_000
_PATH = re.compile(
    r"^/data/spot/(?P<period>daily|monthly)/(?:"
    r"klines/(?P<ksymbol>[A-Z0-9]+)/(?P<interval>\w+)/(?P<kname>(?P=ksymbol)-(?P=interval))"
    r"|aggTrades/(?P<asymbol>[A-Z0-9]+)/(?P<aname>(?P=asymbol)-aggTrades)"
    r")-(?P<date>\d{4}-\d{2}(?:-\d{2})?)\.zip(?P<checksum>\.CHECKSUM)?$"
)
_CACHED_FILES = 16


class BulkFiles:
    """Serves the files, building each zip once (kept in a small cache)."""

    def __init__(self, market: Market) -> None:
        self._market = market
        self._cache: OrderedDict[str, tuple[bytes, str]] = OrderedDict()

    def add_routes(self, app: web.Application) -> None:
        """Register ``/data/...``."""
        app.router.add_get("/data/{path:.*}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """A zip or its checksum, or 404 for what does not exist (yet)."""
        match = _PATH.match(request.path)
        if match is None:
            raise web.HTTPNotFound()
        history = self._market.get(match["ksymbol"] or match["asymbol"])
        interval = INTERVALS.get(match["interval"]) if match["interval"] else None
        span = _span(match["period"], match["date"])
        if (
            history is None
            or (match["interval"] and (interval is None or _too_wide(interval, match["period"])))
            or span is None
            or span[1] > now_ms()
            or span[1] <= history.genesis_ms
        ):
            raise web.HTTPNotFound()
        name = f"{match['kname'] or match['aname']}-{match['date']}.zip"
        archive, checksum = await self._file(history, interval, name, span)
        if match["checksum"]:
            return web.Response(text=checksum, content_type="text/plain")
        return web.Response(body=archive, content_type="application/zip")

    async def _file(
        self, history: SymbolHistory, interval: Interval | None, name: str, span: tuple[int, int]
    ) -> tuple[bytes, str]:
        cached = self._cache.get(name)
        if cached is None:
            cached = await asyncio.to_thread(_build, history, interval, name, span, now_ms())
            self._cache[name] = cached
            while len(self._cache) > _CACHED_FILES:
                self._cache.popitem(last=False)
        self._cache.move_to_end(name)
        return cached


def _span(period: str, text: str) -> tuple[int, int] | None:
    """``[start, end)`` in epoch ms of a daily (YYYY-MM-DD) or monthly (YYYY-MM) file."""
    try:
        if period == "daily":
            start = datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=UTC)
            start_ms = int(start.timestamp() * 1000)
            return start_ms, start_ms + _DAY_MS
        start = datetime.strptime(text, "%Y-%m").replace(tzinfo=UTC)
    except ValueError:
        return None
    start_ms = int(start.timestamp() * 1000)
    return start_ms, INTERVALS["1M"].next_open(start_ms)


def _too_wide(interval: Interval, period: str) -> bool:
    return period == "daily" and not 0 < interval.millis <= _DAY_MS


def _build(
    history: SymbolHistory,
    interval: Interval | None,
    name: str,
    span: tuple[int, int],
    now: int,
) -> tuple[bytes, str]:
    start, end = span
    scale = 1000 if start >= _MICROSECONDS_FROM else 1
    spec = history.spec
    if interval is None:
        lines = [agg_trade_csv(spec, trade, scale) for trade in history.trades_between(start, end)]
    else:
        klines = select_klines(history, interval, start=start, end=end - 1, limit=None, now=now)
        lines = [kline_csv(spec, kline, scale) for kline in klines]
    content = "".join(f"{line}\n" for line in lines)
    moment = datetime.fromtimestamp(end / 1000, UTC)
    info = zipfile.ZipInfo(name.removesuffix(".zip") + ".csv", date_time=moment.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(info, content)
    archive_bytes = buffer.getvalue()
    return archive_bytes, f"{hashlib.sha256(archive_bytes).hexdigest()}  {name}\n"

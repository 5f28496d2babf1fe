"""Binance spot REST over httpx, within the request-weight budget and polite under errors.

* Each request's weight is reserved before it is sent; the budget follows the exchange's own
  count from the ``X-MBX-USED-WEIGHT-1M`` header and waits for the next minute rather than
  going over (default 6,000 a minute, with a safety margin).
* 429 and 418 stop every request until ``Retry-After`` has passed, then retry.
* 5xx answers and network errors mean the outcome is unknown: the request (a read, so
  idempotent) is retried with exponential backoff and full jitter.
* Other 4xx answers raise :class:`BinanceAPIError` with Binance's code and message.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import msgspec

from streamforge.exchanges.binance.normalize import (
    decode_agg_trades,
    decode_depth_snapshot,
    decode_klines,
)
from streamforge.lifecycle import AsyncLifecycle
from streamforge.schemas import BookSnapshot, Candle, Trade, now_millis

log = logging.getLogger(__name__)

WEIGHT_HEADER = "x-mbx-used-weight-1m"
KLINES_WEIGHT = 2
AGG_TRADES_WEIGHT = 4
EXCHANGE_INFO_WEIGHT = 20
MAX_ROWS = 1000


def depth_weight(limit: int) -> int:
    """Request weight of ``/api/v3/depth`` at ``limit`` levels."""
    if limit <= 100:
        return 5
    if limit <= 500:
        return 25
    if limit <= 1000:
        return 50
    return 250


class BinanceAPIError(RuntimeError):
    """Binance refused a request (a 4xx other than 429/418)."""

    def __init__(self, status: int, code: int | None, message: str, path: str) -> None:
        super().__init__(f"Binance {path} answered {status} (code {code}): {message}")
        self.status = status
        self.code = code


class _ErrorBody(msgspec.Struct):
    code: int | None = None
    msg: str = ""


class WeightBudget:
    """The per-minute request-weight budget, shared by every request of a process."""

    def __init__(self, limit: int = 6000, margin: float = 0.9) -> None:
        self.limit = int(limit * margin)
        self.used = 0
        self._minute = self._current_minute()
        self._banned_until = 0.0
        self._lock = asyncio.Lock()

    @staticmethod
    def _current_minute() -> int:
        return int(time.time() // 60)

    def _roll(self) -> None:
        minute = self._current_minute()
        if minute != self._minute:
            self._minute = minute
            self.used = 0

    async def reserve(self, weight: int) -> None:
        """Wait until ``weight`` fits in this minute's budget (and any ban is over)."""
        async with self._lock:
            while True:
                now = time.time()
                if now < self._banned_until:
                    await asyncio.sleep(self._banned_until - now)
                    continue
                self._roll()
                if self.used + weight <= self.limit or self.used == 0:
                    self.used += weight
                    return
                await asyncio.sleep(60 - now % 60 + 0.05)

    def observe(self, used_header: str | None) -> None:
        """Adopt the exchange's count of the weight used this minute."""
        if used_header and used_header.isdigit():
            self._roll()
            self.used = max(self.used, int(used_header))

    def ban(self, seconds: float) -> None:
        """Stop every request for ``seconds`` (429 or 418 with ``Retry-After``)."""
        self._banned_until = max(self._banned_until, time.time() + seconds)


@dataclass
class RetryPolicy:
    """Retries of requests whose outcome is unknown (5xx, network errors)."""

    attempts: int = 6
    initial_s: float = 0.25
    max_s: float = 20.0

    def delay(self, attempt: int) -> float:
        """Full-jitter exponential backoff for retry number ``attempt`` (from 0)."""
        return random.uniform(0, min(self.max_s, self.initial_s * 2**attempt))


class BinanceRest(AsyncLifecycle):
    """An async client of Binance's spot market-data endpoints; use as ``async with``."""

    def __init__(
        self,
        base_url: str,
        *,
        budget: WeightBudget | None = None,
        retry: RetryPolicy | None = None,
        timeout_s: float = 10.0,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.budget = budget or WeightBudget()
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            timeout=timeout_s,
            transport=transport,
            headers={"User-Agent": "streamforge"},
        )
        self.requests = 0
        self.throttled = 0

    async def start(self) -> None:
        """Nothing to do: connections open on first use."""

    async def stop(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def get(self, path: str, params: Mapping[str, Any], weight: int) -> bytes:
        """GET ``path`` within the budget, retrying as the module describes; the raw body."""
        attempt = 0
        while True:
            await self.budget.reserve(weight)
            self.requests += 1
            try:
                response = await self._http.get(path, params=dict(params))
            except httpx.TransportError as exc:
                attempt = await self._backoff(attempt, path, f"network error: {exc!r}")
                continue
            self.budget.observe(response.headers.get(WEIGHT_HEADER))
            status = response.status_code
            if status < 400:
                return response.content
            if status in (418, 429):
                self.throttled += 1
                wait = _retry_after(response.headers.get("retry-after"), default=60.0)
                log.warning("Binance %s answered %s: waiting %.1f s", path, status, wait)
                self.budget.ban(wait)
                continue
            if status >= 500:
                attempt = await self._backoff(attempt, path, f"status {status}")
                continue
            try:
                error = msgspec.json.decode(response.content, type=_ErrorBody)
            except msgspec.DecodeError:
                error = _ErrorBody(msg=response.text[:200])
            raise BinanceAPIError(status, error.code, error.msg, path)

    async def _backoff(self, attempt: int, path: str, why: str) -> int:
        if attempt + 1 >= self.retry.attempts:
            raise BinanceAPIError(0, None, f"gave up after {attempt + 1} attempts: {why}", path)
        delay = self.retry.delay(attempt)
        log.warning("Binance %s failed (%s): retry in %.2f s", path, why, delay)
        await asyncio.sleep(delay)
        return attempt + 1

    async def server_time(self) -> int:
        """The exchange's clock, epoch ms."""
        body = await self.get("/api/v3/time", {}, 1)
        return int(msgspec.json.decode(body)["serverTime"])

    async def exchange_info(self) -> dict[str, Any]:
        """``/api/v3/exchangeInfo`` as decoded JSON."""
        info: dict[str, Any] = msgspec.json.decode(
            await self.get("/api/v3/exchangeInfo", {}, EXCHANGE_INFO_WEIGHT)
        )
        return info

    async def klines(
        self,
        symbol: str,
        interval: str,
        *,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = MAX_ROWS,
    ) -> list[Candle]:
        """Klines of ``[start_time, end_time]`` (inclusive, epoch ms), oldest first."""
        params: dict[str, Any] = {"symbol": symbol, "interval": interval, "limit": limit}
        if start_time is not None:
            params["startTime"] = start_time
        if end_time is not None:
            params["endTime"] = end_time
        body = await self.get("/api/v3/klines", params, KLINES_WEIGHT)
        return decode_klines(body, symbol, interval, now_millis())

    async def agg_trades(
        self,
        symbol: str,
        *,
        from_id: int | None = None,
        start_time: int | None = None,
        end_time: int | None = None,
        limit: int = MAX_ROWS,
    ) -> list[Trade]:
        """Aggregate trades from ``from_id``, or within a time window of under an hour."""
        params: dict[str, Any] = {"symbol": symbol, "limit": limit}
        if from_id is not None:
            params["fromId"] = from_id
        if start_time is not None:
            params["startTime"] = start_time
        if end_time is not None:
            params["endTime"] = end_time
        body = await self.get("/api/v3/aggTrades", params, AGG_TRADES_WEIGHT)
        return decode_agg_trades(body, symbol, now_millis())

    async def depth(self, symbol: str, limit: int = 5000) -> BookSnapshot:
        """An order book snapshot of up to ``limit`` levels a side."""
        body = await self.get(
            "/api/v3/depth", {"symbol": symbol, "limit": limit}, depth_weight(limit)
        )
        return decode_depth_snapshot(body, symbol, now_millis())


def _retry_after(header: str | None, default: float) -> float:
    try:
        return max(float(header), 0.0) if header else default
    except ValueError:
        return default

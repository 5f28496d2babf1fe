"""Binance's public market-data REST endpoints over the synthetic market."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

from streamforge.exchanges.binance.intervals import INTERVALS
from streamforge.simulator.errors import (
    BinanceError,
    illegal,
    invalid_limit,
    invalid_symbol,
    json_response,
    missing,
)
from streamforge.simulator.history import SymbolHistory
from streamforge.simulator.klines import select_klines
from streamforge.simulator.live import LiveFeed, now_ms
from streamforge.simulator.market import Market
from streamforge.simulator.payloads import agg_trade_row, kline_row
from streamforge.simulator.symbols import SymbolSpec

_HOUR_MS = 3_600_000
MAX_DEPTH = 5000


def request_weight(path: str, query: Mapping[str, str]) -> int:
    """Binance's weight of a REST request (depth by its limit)."""
    if path == "/api/v3/depth":
        limit = query.get("limit", "100")
        size = min(int(limit), MAX_DEPTH) if limit.isdigit() else 100
        return 5 if size <= 100 else 25 if size <= 500 else 50 if size <= 1000 else 250
    return {"/api/v3/klines": 2, "/api/v3/aggTrades": 4, "/api/v3/exchangeInfo": 20}.get(path, 1)


def _int(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if not value.isdigit() or len(value) > 20:
        raise illegal(name)
    return int(value)


def _limit(query: Mapping[str, str], default: int, maximum: int) -> int:
    limit = _int(query, "limit")
    if limit is None:
        return default
    if limit < 1:
        raise invalid_limit()
    return min(limit, maximum)


def _exchange_symbol(spec: SymbolSpec) -> dict[str, Any]:
    return {
        "symbol": spec.symbol,
        "status": "TRADING",
        "baseAsset": spec.base,
        "baseAssetPrecision": 8,
        "quoteAsset": spec.quote,
        "quotePrecision": 8,
        "quoteAssetPrecision": 8,
        "baseCommissionPrecision": 8,
        "quoteCommissionPrecision": 8,
        "orderTypes": ["LIMIT", "LIMIT_MAKER", "MARKET", "STOP_LOSS_LIMIT", "TAKE_PROFIT_LIMIT"],
        "icebergAllowed": True,
        "ocoAllowed": True,
        "otoAllowed": True,
        "quoteOrderQtyMarketAllowed": True,
        "allowTrailingStop": True,
        "cancelReplaceAllowed": True,
        "isSpotTradingAllowed": True,
        "isMarginTradingAllowed": False,
        "filters": [
            {
                "filterType": "PRICE_FILTER",
                "minPrice": spec.tick_size,
                "maxPrice": "1000000.00000000",
                "tickSize": spec.tick_size,
            },
            {
                "filterType": "LOT_SIZE",
                "minQty": spec.step_size,
                "maxQty": "9000000.00000000",
                "stepSize": spec.step_size,
            },
        ],
        "permissions": [],
        "permissionSets": [["SPOT"]],
        "defaultSelfTradePreventionMode": "EXPIRE_MAKER",
        "allowedSelfTradePreventionModes": ["EXPIRE_TAKER", "EXPIRE_MAKER", "EXPIRE_BOTH"],
    }


class RestApi:
    """Handlers of ``/api/v3/*``; errors are raised as :class:`BinanceError`."""

    def __init__(self, market: Market, live: LiveFeed, weight_limit: int) -> None:
        self._market = market
        self._live = live
        self._weight_limit = weight_limit

    def add_routes(self, app: web.Application) -> None:
        """Register the endpoints."""
        app.router.add_get("/api/v3/ping", self.ping)
        app.router.add_get("/api/v3/time", self.time)
        app.router.add_get("/api/v3/exchangeInfo", self.exchange_info)
        app.router.add_get("/api/v3/depth", self.depth)
        app.router.add_get("/api/v3/klines", self.klines)
        app.router.add_get("/api/v3/aggTrades", self.agg_trades)

    def _history(self, query: Mapping[str, str]) -> SymbolHistory:
        symbol = query.get("symbol")
        if not symbol:
            raise missing("symbol")
        history = self._market.get(symbol)
        if history is None:
            raise invalid_symbol()
        return history

    async def ping(self, request: web.Request) -> web.Response:
        """``GET /api/v3/ping``: ``{}``."""
        return json_response({})

    async def time(self, request: web.Request) -> web.Response:
        """``GET /api/v3/time``: ``{"serverTime": ms}``."""
        return json_response({"serverTime": now_ms()})

    async def exchange_info(self, request: web.Request) -> web.Response:
        """``GET /api/v3/exchangeInfo`` for all symbols, ``symbol=X`` or ``symbols=["X","Y"]``."""
        names = list(self._market.histories)
        if "symbol" in request.query:
            names = [request.query["symbol"]]
        elif "symbols" in request.query:
            try:
                names = orjson.loads(request.query["symbols"])
            except orjson.JSONDecodeError:
                raise illegal("symbols") from None
        histories = [self._market.get(str(name)) for name in names]
        specs = [history.spec for history in histories if history is not None]
        if len(specs) != len(names):
            raise invalid_symbol()
        return json_response(
            {
                "timezone": "UTC",
                "serverTime": now_ms(),
                "rateLimits": [
                    {
                        "rateLimitType": "REQUEST_WEIGHT",
                        "interval": "MINUTE",
                        "intervalNum": 1,
                        "limit": self._weight_limit,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "SECOND",
                        "intervalNum": 10,
                        "limit": 100,
                    },
                    {
                        "rateLimitType": "ORDERS",
                        "interval": "DAY",
                        "intervalNum": 1,
                        "limit": 200000,
                    },
                    {
                        "rateLimitType": "RAW_REQUESTS",
                        "interval": "MINUTE",
                        "intervalNum": 5,
                        "limit": 61000,
                    },
                ],
                "exchangeFilters": [],
                "symbols": [_exchange_symbol(spec) for spec in specs],
            }
        )

    async def depth(self, request: web.Request) -> web.Response:
        """``GET /api/v3/depth``: the live book, limit 1-5000 (larger is capped), default 100."""
        history = self._history(request.query)
        update_id, bids, asks = self._live.depth(
            history.spec.symbol, _limit(request.query, 100, MAX_DEPTH)
        )
        return json_response({"lastUpdateId": update_id, "bids": bids, "asks": asks})

    async def klines(self, request: web.Request) -> web.Response:
        """``GET /api/v3/klines``: rows whose open time is within ``[startTime, endTime]``."""
        query = request.query
        history = self._history(query)
        name = query.get("interval")
        if not name:
            raise missing("interval")
        interval = INTERVALS.get(name)
        if interval is None:
            raise BinanceError(-1120, "Invalid interval.")
        start, end = _int(query, "startTime"), _int(query, "endTime")
        if start is not None and end is not None and start > end:
            raise BinanceError(-1023, "Start time is greater than end time.")
        klines = select_klines(
            history, interval, start=start, end=end, limit=_limit(query, 500, 1000), now=now_ms()
        )
        return json_response([kline_row(history.spec, kline) for kline in klines])

    async def agg_trades(self, request: web.Request) -> web.Response:
        """``GET /api/v3/aggTrades`` by ``fromId``, by time (a window under one hour) or latest."""
        query = request.query
        history = self._history(query)
        from_id, start, end = (
            _int(query, "fromId"),
            _int(query, "startTime"),
            _int(query, "endTime"),
        )
        limit = _limit(query, 500, 1000)
        if start is not None and end is not None and end - start >= _HOUR_MS:
            raise BinanceError(-1127, "More than 1 hours between startTime and endTime.")
        upper = now_ms() + 1 if end is None else min(end + 1, now_ms() + 1)
        if from_id is not None:
            trades = history.trades_from_id(from_id, upper, limit)
            if start is not None:
                trades = [trade for trade in trades if trade.time >= start]
        elif start is not None:
            trades = history.trades_between(start, upper, limit)
        else:
            trades = history.trades_before(upper, limit)
        return json_response([agg_trade_row(history.spec, trade) for trade in trades])

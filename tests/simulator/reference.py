"""Reference computations the tests compare the simulator against (deliberately naive)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import websockets

EIGHT = Decimal("0.00000001")


def text(value: Decimal) -> str:
    """Binance's eight-decimal text of a number."""
    return str(value.quantize(EIGHT))


def kline_of(trades: list[dict[str, Any]]) -> dict[str, Any]:
    """Open, high, low, close, volumes and trade count of aggregate trades, as kline text."""
    prices = [Decimal(t["p"]) for t in trades]
    volume = sum((Decimal(t["q"]) for t in trades), Decimal(0))
    quote = sum((Decimal(t["p"]) * Decimal(t["q"]) for t in trades), Decimal(0))
    takers = [t for t in trades if not t["m"]]
    return {
        "open": text(prices[0]),
        "high": text(max(prices)),
        "low": text(min(prices)),
        "close": text(prices[-1]),
        "volume": text(volume),
        "quote": text(quote),
        "trades": sum(t["l"] - t["f"] + 1 for t in trades),
        "taker_volume": text(sum((Decimal(t["q"]) for t in takers), Decimal(0))),
        "taker_quote": text(sum((Decimal(t["p"]) * Decimal(t["q"]) for t in takers), Decimal(0))),
    }


def kline_fields(row: list[Any]) -> dict[str, Any]:
    """The same fields of a REST kline row."""
    return {
        "open": row[1],
        "high": row[2],
        "low": row[3],
        "close": row[4],
        "volume": row[5],
        "quote": row[7],
        "trades": row[8],
        "taker_volume": row[9],
        "taker_quote": row[10],
    }


def agg_trades(client: httpx.Client, symbol: str, start: int, end: int) -> list[dict[str, Any]]:
    """Every aggregate trade with ``start <= T < end``, paging by ``fromId`` as a loader would."""
    first = client.get(
        "/api/v3/aggTrades", params={"symbol": symbol, "startTime": start, "limit": 1}
    ).json()
    trades: list[dict[str, Any]] = []
    next_id = first[0]["a"]
    while True:
        page = client.get(
            "/api/v3/aggTrades", params={"symbol": symbol, "fromId": next_id, "limit": 1000}
        ).json()
        trades.extend(t for t in page if t["T"] < end)
        if not page or page[-1]["T"] >= end:
            return trades
        next_id = page[-1]["a"] + 1


def klines(
    client: httpx.Client, symbol: str, interval: str, start: int, end: int
) -> list[list[Any]]:
    """Every kline row opening in ``[start, end)``, paging by start time as a loader would."""
    rows: list[list[Any]] = []
    while start < end:
        page = client.get(
            "/api/v3/klines",
            params={
                "symbol": symbol,
                "interval": interval,
                "startTime": start,
                "endTime": end - 1,
                "limit": 1000,
            },
        ).json()
        if not page:
            break
        rows.extend(page)
        start = page[-1][0] + 1
    return rows


async def read_until_closed(ws: websockets.ClientConnection) -> tuple[list[str], int | None]:
    """Every frame until the server closes the connection, and the close code it sent."""
    frames: list[str] = []
    try:
        while True:
            frames.append(str(await ws.recv()))
    except websockets.ConnectionClosed as closed:
        return frames, closed.rcvd.code if closed.rcvd else None


class NaiveBook:
    """An order book kept by Binance's rules from a REST snapshot and diff events."""

    def __init__(self, snapshot: dict[str, Any]) -> None:
        self.update_id: int = snapshot["lastUpdateId"]
        self.bids = {Decimal(p): q for p, q in snapshot["bids"]}
        self.asks = {Decimal(p): q for p, q in snapshot["asks"]}

    def apply(self, diff: dict[str, Any]) -> None:
        """Apply one diff; diffs the snapshot already contains are skipped."""
        if diff["u"] <= self.update_id:
            return
        assert diff["U"] <= self.update_id + 1, "gap in the update ids"
        for side, levels in ((self.bids, diff["b"]), (self.asks, diff["a"])):
            for price, qty in levels:
                if Decimal(qty) == 0:
                    side.pop(Decimal(price), None)
                else:
                    side[Decimal(price)] = qty
        self.update_id = diff["u"]

    def best(self) -> tuple[str, str, str, str]:
        """Best bid, its quantity, best ask, its quantity (as a bookTicker reports them)."""
        bid, ask = max(self.bids), min(self.asks)
        return text(bid), self.bids[bid], text(ask), self.asks[ask]

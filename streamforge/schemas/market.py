"""Normalized market records, the values of ``md.*`` and ``wf-<queue_id>-data`` topics.

Every record is tagged by ``type`` so that one topic may carry several kinds (a workflow data
topic holds candles and trades). Prices and quantities are the exchange's exact decimal text.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from streamforge.schemas.fields import Decimal, EpochMillis, Exchange, ExchangeId, Level, Symbol


class MarketRecord(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="type"
):
    """Fields common to every market record."""

    v: Literal[1] = 1
    exchange: Exchange
    symbol: Symbol

    @property
    def key(self) -> str:
        """The Kafka key that keeps one symbol in order: ``exchange:SYMBOL``."""
        return f"{self.exchange}:{self.symbol}"


class Trade(MarketRecord, frozen=True, tag="trade"):
    """An aggregate trade (Binance ``aggTrade``): live and historical share these ids."""

    trade_id: ExchangeId
    price: Decimal
    qty: Decimal
    first_trade_id: ExchangeId
    last_trade_id: ExchangeId
    trade_time: EpochMillis
    buyer_is_maker: bool
    event_time: EpochMillis
    receive_time: EpochMillis

    @property
    def natural_key(self) -> str:
        """Store key: ``exchange|symbol|trade_id``."""
        return f"{self.exchange}|{self.symbol}|{self.trade_id}"


class Candle(MarketRecord, frozen=True, tag="candle"):
    """A kline; ``closed`` is false while the interval is still open."""

    interval: str
    open_time: EpochMillis
    close_time: EpochMillis
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    trades: int
    taker_buy_volume: Decimal
    taker_buy_quote_volume: Decimal
    closed: bool
    event_time: EpochMillis
    receive_time: EpochMillis

    @property
    def natural_key(self) -> str:
        """Store key: ``exchange|symbol|interval|open_time``."""
        return f"{self.exchange}|{self.symbol}|{self.interval}|{self.open_time}"


class DepthDiff(MarketRecord, frozen=True, tag="depth"):
    """One diff-depth event: levels to set (quantity ``0`` removes a level)."""

    first_update_id: ExchangeId
    final_update_id: ExchangeId
    bids: list[Level]
    asks: list[Level]
    event_time: EpochMillis
    receive_time: EpochMillis


class BBO(MarketRecord, frozen=True, tag="bbo"):
    """Best bid and offer after ``update_id``."""

    update_id: ExchangeId
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    event_time: EpochMillis
    receive_time: EpochMillis


class BookSnapshot(MarketRecord, frozen=True, tag="book"):
    """The top ``depth`` levels a side of a local order book, as of ``last_update_id``."""

    last_update_id: ExchangeId
    depth: int
    bids: list[Level]
    asks: list[Level]
    timestamp: EpochMillis


class Ticker(MarketRecord, frozen=True, tag="ticker"):
    """Rolling 24-hour statistics (Binance ``miniTicker``)."""

    open: Decimal
    high: Decimal
    low: Decimal
    last: Decimal
    volume: Decimal
    quote_volume: Decimal
    event_time: EpochMillis
    receive_time: EpochMillis


#: Any market record; decode a mixed topic with this union.
AnyMarketRecord = Trade | Candle | DepthDiff | BBO | BookSnapshot | Ticker

"""Normalized market records, the values of ``md.*`` and ``wf-<queue_id>-data`` topics.

Every record is tagged by ``type`` so that one topic may carry several kinds (a workflow data
topic holds candles and trades). Prices and quantities are the exchange's exact decimal text.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from itertools import chain
from operator import attrgetter
from typing import Any, ClassVar, Literal

import msgspec

from streamforge.schemas.fields import (
    DECIMAL_PATTERN,
    EXCHANGE_PATTERN,
    SYMBOL_PATTERN,
    Decimal,
    EpochMillis,
    Exchange,
    ExchangeId,
    Level,
    Symbol,
)

_SEP = "\x1f"
_LEVELS = re.compile(f"(?:{DECIMAL_PATTERN}(?:{_SEP}{DECIMAL_PATTERN})*)?").fullmatch
_series_match = re.compile(f"{EXCHANGE_PATTERN}{_SEP}{SYMBOL_PATTERN}").fullmatch


class _TextCheck:
    """Checks a record's text fields (exchange, symbol, then its decimals) with one regex match
    of their concatenation.

    The texts are joined with a separator that none of them may contain and matched at once;
    only a failing record pays for finding the field to name.
    """

    def __init__(self, decimals: tuple[str, ...]) -> None:
        self.fields = ("exchange", "symbol", *decimals)
        self.patterns = (EXCHANGE_PATTERN, SYMBOL_PATTERN, *(DECIMAL_PATTERN for _ in decimals))
        #: The record's texts, in the order of :attr:`fields`.
        self.texts: Callable[[Any], tuple[str, ...]] = attrgetter(*self.fields)
        #: Matches the texts joined with the separator.
        self.match: Callable[[str], re.Match[str] | None] = re.compile(
            _SEP.join(self.patterns)
        ).fullmatch

    def passes(self, texts: tuple[str, ...]) -> bool:
        """Whether ``texts`` (in the order of :attr:`fields`) pass."""
        try:
            return self.match(_SEP.join(texts)) is not None
        except TypeError:  # a value that is not a string
            return False

    def explain(self, record: Any) -> None:
        """Raise ``ValueError`` naming the first field of ``record`` that fails its pattern."""
        for name, pattern in zip(self.fields, self.patterns, strict=True):
            value = getattr(record, name)
            if not isinstance(value, str) or re.fullmatch(pattern, value) is None:
                raise ValueError(f"`{name}` must match ^{pattern}$, got {value!r}")


def valid_series(exchange: str, symbol: str) -> bool:
    """Whether ``exchange`` and ``symbol`` are texts that a market record accepts."""
    return _series_match(f"{exchange}{_SEP}{symbol}") is not None


def _check_levels(name: str, levels: list[Level]) -> None:
    if _LEVELS(_SEP.join(chain.from_iterable(levels))) is None:
        for level in levels:
            if len(level) != 2 or not all(_LEVELS(text) for text in level):
                raise ValueError(f"`{name}` levels must be [price, qty] decimals, got {level!r}")


class MarketRecord(
    msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, tag_field="type"
):
    """Fields common to every market record."""

    v: Literal[1] = 1
    exchange: Exchange
    symbol: Symbol

    #: Decimal text fields of the record type, checked with exchange and symbol.
    _decimals: ClassVar[tuple[str, ...]] = ()
    #: Fields holding lists of ``[price, qty]`` levels.
    _levels: ClassVar[tuple[str, ...]] = ()
    _check: ClassVar[_TextCheck]
    #: ``texts_pass(texts)``: whether a record of this type with these texts (exchange,
    #: symbol, then its decimal fields in the order of ``_decimals``) passes its text checks.
    #: For code that encodes a record without building it (see :func:`unchecked`); levels are
    #: not covered.
    texts_pass: ClassVar[Callable[[tuple[str, ...]], bool]]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls._check = _TextCheck(cls._decimals)
        cls.texts_pass = cls._check.passes

    def __post_init__(self) -> None:
        # One frame, one join, one match: this runs for every record decoded.
        check = self._check
        try:
            matched = check.match(_SEP.join(check.texts(self)))
        except TypeError:  # a value that is not a string (built in Python, not decoded)
            matched = None
        if matched is None:
            check.explain(self)
        for name in self._levels:
            _check_levels(name, getattr(self, name))

    @property
    def key(self) -> str:
        """The Kafka key that keeps one symbol in order: ``exchange:SYMBOL``."""
        return f"{self.exchange}:{self.symbol}"


class Trade(MarketRecord, frozen=True, tag="trade"):
    """An aggregate trade (Binance ``aggTrade``): live and historical share these ids."""

    _decimals = ("price", "qty")

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

    _decimals = (
        "open",
        "high",
        "low",
        "close",
        "volume",
        "quote_volume",
        "taker_buy_volume",
        "taker_buy_quote_volume",
    )

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

    _levels = ("bids", "asks")

    first_update_id: ExchangeId
    final_update_id: ExchangeId
    bids: list[Level]
    asks: list[Level]
    event_time: EpochMillis
    receive_time: EpochMillis


class BBO(MarketRecord, frozen=True, tag="bbo"):
    """Best bid and offer after ``update_id``."""

    _decimals = ("bid", "bid_qty", "ask", "ask_qty")

    update_id: ExchangeId
    bid: Decimal
    bid_qty: Decimal
    ask: Decimal
    ask_qty: Decimal
    event_time: EpochMillis
    receive_time: EpochMillis


class BookSnapshot(MarketRecord, frozen=True, tag="book"):
    """The top ``depth`` levels a side of a local order book, as of ``last_update_id``."""

    _levels = ("bids", "asks")

    last_update_id: ExchangeId
    depth: int
    bids: list[Level]
    asks: list[Level]
    timestamp: EpochMillis


class Ticker(MarketRecord, frozen=True, tag="ticker"):
    """Rolling 24-hour statistics (Binance ``miniTicker``)."""

    _decimals = ("open", "high", "low", "last", "volume", "quote_volume")

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


@cache
def unchecked(record_type: type[MarketRecord]) -> type[msgspec.Struct]:
    """A struct type that encodes exactly as ``record_type`` (the same fields in the same order,
    names, defaults and tag) but whose constructor checks nothing.

    For hot paths that have checked the texts themselves (``texts_pass`` of the record type) and
    only need the record's JSON: building one costs a fraction of building the record. Never
    decode into it; decoding is what the contract checks.
    """
    config = record_type.__struct_config__
    fields = [
        (
            info.name,
            info.type,
            msgspec.field(
                name=info.encode_name,
                **({} if info.default is msgspec.NODEFAULT else {"default": info.default}),
            ),
        )
        for info in msgspec.structs.fields(record_type)
    ]
    return msgspec.defstruct(
        f"Unchecked{record_type.__name__}",
        fields,
        kw_only=True,
        frozen=True,
        gc=False,
        tag=config.tag,
        tag_field=config.tag_field,
        omit_defaults=config.omit_defaults,
        array_like=config.array_like,
    )

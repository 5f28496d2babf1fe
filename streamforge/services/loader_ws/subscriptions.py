"""What loader-ws subscribes to: symbols x stream kinds, validated, and where each kind goes.

A stream is ``<symbol lower-case>@<kind>`` (``btcusdt@depth@100ms``). Symbols follow the contracts'
``Symbol`` (upper-case letters and digits); kinds are the ones the Binance adapter normalizes. A
bad value raises :class:`~streamforge.services.base.CommandRejected` naming the field, so the same
checks answer a command (``rejected`` with the field) and a command-line option.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from streamforge.bus.topics import BBO, BOOK, CANDLES, DEPTH, TICKER, TRADES
from streamforge.config import Settings
from streamforge.schemas.fields import SYMBOL_PATTERN
from streamforge.services.base import CommandRejected

DEFAULT_KINDS = ("aggTrade", "depth@100ms", "bookTicker", "kline_1m", "kline_5m", "miniTicker")
#: Binance spot kline intervals.
KLINE_INTERVALS = (
    "1s",
    "1m",
    "3m",
    "5m",
    "15m",
    "30m",
    "1h",
    "2h",
    "4h",
    "6h",
    "8h",
    "12h",
    "1d",
    "3d",
    "1w",
    "1M",
)
TRADE_KIND = "aggTrade"
DEPTH_KINDS = frozenset({"depth", "depth@100ms", "depth@1000ms"})
_TOPIC_OF_KIND = {
    TRADE_KIND: TRADES,
    "bookTicker": BBO,
    "miniTicker": TICKER,
    **dict.fromkeys(DEPTH_KINDS, DEPTH),
    **{f"kline_{interval}": CANDLES for interval in KLINE_INTERVALS},
}
KNOWN_KINDS = frozenset(_TOPIC_OF_KIND)
_SYMBOL = re.compile(SYMBOL_PATTERN)


def topic_of_kind(kind: str) -> str | None:
    """The ``md.*`` topic (without prefix) of a stream kind, or None for an unknown kind."""
    return _TOPIC_OF_KIND.get(kind)


def stream_name(symbol: str, kind: str) -> str:
    """The exchange's name of one stream: ``btcusdt@aggTrade``."""
    return f"{symbol.lower()}@{kind}"


def split_stream(stream: str) -> tuple[str, str]:
    """``(SYMBOL, kind)`` of a stream name."""
    symbol, _, kind = stream.partition("@")
    return symbol.upper(), kind


def parse_symbols(value: object, field: str) -> tuple[str, ...]:
    """A non-empty list of symbols, without repeats; rejects anything else naming ``field``."""
    symbols: list[str] = []
    for index, item in enumerate(_non_empty_list(value, field, "symbols")):
        if not isinstance(item, str) or _SYMBOL.fullmatch(item) is None:
            raise CommandRejected(
                f"{field}[{index}]",
                f"not a symbol (2-30 upper-case letters and digits, e.g. BTCUSDT): {item!r}",
            )
        symbols.append(item)
    return tuple(dict.fromkeys(symbols))


def parse_kinds(value: object, field: str) -> tuple[str, ...]:
    """A non-empty list of known stream kinds with at most one diff-depth kind."""
    found: list[str] = []
    for index, item in enumerate(_non_empty_list(value, field, "stream kinds")):
        if not isinstance(item, str) or item not in KNOWN_KINDS:
            raise CommandRejected(
                f"{field}[{index}]",
                f"unknown stream kind {item!r}; known: aggTrade, bookTicker, depth, depth@100ms, "
                "depth@1000ms, miniTicker, kline_<interval>",
            )
        found.append(item)
    kinds = tuple(dict.fromkeys(found))
    if len(DEPTH_KINDS.intersection(kinds)) > 1:
        raise CommandRejected(field, "at most one diff-depth kind: they feed one order book")
    return kinds


def check_payload(payload: Mapping[str, Any], allowed: Iterable[str]) -> None:
    """Reject a command payload with fields other than ``allowed``."""
    for name in payload:
        if name not in allowed:
            raise CommandRejected(f"payload.{name}", f"unknown field; expected {sorted(allowed)}")


def _non_empty_list(value: object, field: str, what: str) -> list[object]:
    if not isinstance(value, list | tuple) or not value:
        raise CommandRejected(field, f"expected a non-empty list of {what}, got {value!r}")
    return list(value)


@dataclass(frozen=True)
class Subscription:
    """Symbols x stream kinds."""

    symbols: tuple[str, ...] = ()
    kinds: tuple[str, ...] = DEFAULT_KINDS

    @property
    def trades(self) -> bool:
        """Whether aggregate trades are subscribed (and kept gap-free)."""
        return TRADE_KIND in self.kinds

    @property
    def depth(self) -> bool:
        """Whether a diff-depth stream is subscribed (and order books are kept)."""
        return not DEPTH_KINDS.isdisjoint(self.kinds)

    def streams(self, symbols: Iterable[str] | None = None) -> set[str]:
        """Stream names of ``symbols`` (default: all of this subscription's)."""
        chosen = self.symbols if symbols is None else symbols
        return {stream_name(symbol, kind) for symbol in chosen for kind in self.kinds}


@dataclass(frozen=True)
class MarketTopics:
    """Full names (with the deployment prefix) of the topics loader-ws writes."""

    trades: str
    depth: str
    bbo: str
    book: str
    candles: str
    ticker: str
    prefix: str

    @classmethod
    def from_settings(cls, settings: Settings) -> MarketTopics:
        """The topics of a deployment."""
        return cls(
            trades=settings.topic(TRADES),
            depth=settings.topic(DEPTH),
            bbo=settings.topic(BBO),
            book=settings.topic(BOOK),
            candles=settings.topic(CANDLES),
            ticker=settings.topic(TICKER),
            prefix=settings.topic_prefix,
        )

    def of_stream(self, stream: str) -> str:
        """The topic a stream's records go to; ``md.trades`` for an unknown stream."""
        topic = topic_of_kind(split_stream(stream)[1])
        return self.prefix + topic if topic is not None else self.trades

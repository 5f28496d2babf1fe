"""What the market screen shows, folded from ``md.*`` records: pure Python, no Textual.

:class:`MarketState` holds a :class:`SymbolState` per watched symbol: the last price (exact text
and float), the 24-hour ticker, sampled recent prices for a sparkline, the order book of the
ladder, a ring of recent trades and candles per interval, every collection bounded. It also keeps
the newest ``md.book`` snapshot of every symbol it sees, so a symbol added to the watchlist later
shows its book at once. :meth:`MarketState.apply` is the hot path (tens of thousands of records a
second): it stores records as they are and leaves formatting to the widgets, which only look at
what is on screen. Each part of a symbol has a revision that grows when it changes, so a widget
can tell that it has nothing to redraw.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from streamforge.schemas import (
    BBO,
    AnyMarketRecord,
    BookSnapshot,
    Candle,
    Ticker,
    Trade,
)
from tui.market.book import LadderBook

#: Candle intervals kept by default (the chart toggles between them).
INTERVALS = ("1m", "5m")


@dataclass(frozen=True)
class Limits:
    """Bounds of what is kept of one symbol."""

    #: Prices kept for the sparkline, one per ``spark_bucket_ms`` of event time.
    spark_len: int = 60
    spark_bucket_ms: int = 1000
    #: Trades kept for the tape.
    trades_len: int = 200
    #: Candles kept per interval.
    candles_len: int = 240
    intervals: tuple[str, ...] = INTERVALS


class CandleSeries:
    """The newest candles of one interval, oldest first; an update of a held candle replaces it."""

    __slots__ = ("_candles",)

    def __init__(self, maxlen: int) -> None:
        self._candles: deque[Candle] = deque(maxlen=maxlen)

    def __iter__(self) -> Iterator[Candle]:
        return iter(self._candles)

    def __len__(self) -> int:
        return len(self._candles)

    def apply(self, candle: Candle) -> bool:
        """Add or replace ``candle``; return whether the series changed."""
        candles = self._candles
        if not candles or candle.open_time > candles[-1].open_time:
            candles.append(candle)
            return True
        # Klines of one symbol arrive in order, so a late one is almost always the newest.
        for index in range(len(candles) - 1, -1, -1):
            if candles[index].open_time == candle.open_time:
                candles[index] = candle
                return True
            if candles[index].open_time < candle.open_time:
                break
        return False


class SymbolState:
    """Everything shown about one symbol.

    Revisions: ``quote_rev`` (last price, sparkline, ticker), ``book_rev``, ``trades_rev`` and
    ``candles_rev`` grow by at least one on every change of their part.
    """

    __slots__ = (
        "_bucket",
        "_bucket_ms",
        "_last_ms",
        "book",
        "book_rev",
        "candles",
        "candles_rev",
        "last",
        "last_value",
        "prices",
        "quote_rev",
        "symbol",
        "ticker",
        "trades",
        "trades_rev",
    )

    def __init__(self, symbol: str, limits: Limits = Limits()) -> None:
        self.symbol = symbol
        #: The last traded price as the exchange wrote it, and as a float.
        self.last: str | None = None
        self.last_value: float | None = None
        #: The newest 24-hour ticker.
        self.ticker: Ticker | None = None
        #: The last price of each ``spark_bucket_ms`` of event time, newest last.
        self.prices: deque[float] = deque(maxlen=limits.spark_len)
        self.book = LadderBook()
        #: The newest trades, newest last.
        self.trades: deque[Trade] = deque(maxlen=limits.trades_len)
        self.candles = {interval: CandleSeries(limits.candles_len) for interval in limits.intervals}
        self.quote_rev = 0
        self.book_rev = 0
        self.trades_rev = 0
        self.candles_rev = 0
        self._bucket_ms = limits.spark_bucket_ms
        self._bucket = -1
        self._last_ms = -1

    @property
    def change_pct(self) -> float | None:
        """The change of the last price against the 24-hour open, in percent."""
        ticker, last = self.ticker, self.last_value
        if ticker is None or last is None:
            return None
        opened = float(ticker.open)
        return (last - opened) / opened * 100 if opened else None

    def apply(self, record: AnyMarketRecord) -> bool:
        """Fold one record of this symbol in; return whether anything shown changed."""
        if isinstance(record, Trade):
            return self._apply_trade(record)
        if isinstance(record, BBO):
            return self._apply_bbo(record)
        if isinstance(record, Candle):
            return self._apply_candle(record)
        if isinstance(record, Ticker):
            return self._apply_ticker(record)
        if isinstance(record, BookSnapshot):
            return self._apply_book(record)
        return False  # depth diffs: the ladder follows md.book and md.bbo

    def _apply_trade(self, trade: Trade) -> bool:
        """Add a trade to the tape and take its price as the last one."""
        self.trades.append(trade)
        self.trades_rev += 1
        self._set_last(trade.price, trade.trade_time)
        return True

    def _apply_ticker(self, ticker: Ticker) -> bool:
        """Take the 24-hour statistics; their last price counts unless a trade is newer."""
        current = self.ticker
        if current is not None and ticker.event_time < current.event_time:
            return False
        self.ticker = ticker
        self.quote_rev += 1
        self._set_last(ticker.last, ticker.event_time)
        return True

    def _apply_book(self, book: BookSnapshot) -> bool:
        """Take a ``md.book`` snapshot (see :class:`~tui.market.book.LadderBook`)."""
        if self.book.apply_snapshot(book):
            self.book_rev += 1
            return True
        return False

    def _apply_bbo(self, bbo: BBO) -> bool:
        """Move the top of the book to ``bbo`` if it is newer."""
        if self.book.apply_bbo(bbo):
            self.book_rev += 1
            return True
        return False

    def _apply_candle(self, candle: Candle) -> bool:
        """Add or replace a candle of a kept interval."""
        series = self.candles.get(candle.interval)
        if series is not None and series.apply(candle):
            self.candles_rev += 1
            return True
        return False

    def _set_last(self, price: str, time_ms: int) -> None:
        if time_ms < self._last_ms:
            return
        self._last_ms = time_ms
        self.last = price
        self.last_value = value = float(price)
        bucket = time_ms // self._bucket_ms
        if bucket != self._bucket:
            self._bucket = bucket
            self.prices.append(value)
        else:
            self.prices[-1] = value
        self.quote_rev += 1


class MarketState:
    """The watched symbols' states, in watchlist order, and every symbol's newest book."""

    def __init__(self, symbols: Iterable[str] = (), limits: Limits = Limits()) -> None:
        self.symbols: dict[str, SymbolState] = {}
        #: The newest ``md.book`` snapshot of every symbol seen, watched or not.
        self.books: dict[str, BookSnapshot] = {}
        #: Exchange time (epoch ms) of the newest record applied.
        self.last_event_ms: int | None = None
        #: Grows whenever the set of watched symbols changes.
        self.watch_rev = 0
        self.limits = limits
        for symbol in symbols:
            self.add(symbol)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self.symbols

    def add(self, symbol: str) -> SymbolState:
        """Watch ``symbol`` (starting from its newest book if one was seen); idempotent."""
        state = self.symbols.get(symbol)
        if state is None:
            state = self.symbols[symbol] = SymbolState(symbol, self.limits)
            book = self.books.get(symbol)
            if book is not None:
                state.apply(book)
            self.watch_rev += 1
        return state

    def remove(self, symbol: str) -> None:
        """Stop watching ``symbol`` and forget what was folded of it (its newest book stays)."""
        if self.symbols.pop(symbol, None) is not None:
            self.watch_rev += 1

    def apply(self, records: Iterable[AnyMarketRecord]) -> set[str]:
        """Fold ``records`` (in the order read) into the state; return the symbols that changed.

        Records of symbols not watched are ignored, except that every symbol's newest book is
        kept.
        """
        changed: set[str] = set()
        symbols = self.symbols
        newest = self.last_event_ms or 0
        for record in records:
            if isinstance(record, BookSnapshot):
                self._keep_book(record)
                time_ms = record.timestamp
            else:
                time_ms = record.event_time
            if time_ms > newest:
                newest = time_ms
            state = symbols.get(record.symbol)
            if state is not None and state.apply(record):
                changed.add(record.symbol)
        if newest:
            self.last_event_ms = newest
        return changed

    def _keep_book(self, book: BookSnapshot) -> None:
        kept = self.books.get(book.symbol)
        if kept is None or (book.timestamp, book.last_update_id) > (
            kept.timestamp,
            kept.last_update_id,
        ):
            self.books[book.symbol] = book

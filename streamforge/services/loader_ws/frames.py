"""The hot path: raw WebSocket frames to normalized records on the right ``md.*`` topics.

Called synchronously by the WebSocket client with the frames of each socket read, so it never
awaits: it decodes each frame (trades straight into their encoded form), drops it if its symbol
is no longer subscribed, and hands the record to the component that owns its kind (trades,
books, BBO) or straight to the publisher (candles, tickers). A frame that does not decode goes
to the dead letters; streaming continues.
"""

from __future__ import annotations

from streamforge.exchanges.binance import EXCHANGE
from streamforge.exchanges.binance.normalize import FrameError, decode_live_frame
from streamforge.exchanges.binance.trade_json import EncodedTrade
from streamforge.schemas import BBO, Candle, DepthDiff, encode
from streamforge.services.loader_ws.bbo import BboGate
from streamforge.services.loader_ws.books import Books
from streamforge.services.loader_ws.dead_letters import DeadLetters
from streamforge.services.loader_ws.metrics import LoaderStats
from streamforge.services.loader_ws.publisher import Publisher
from streamforge.services.loader_ws.subscriptions import MarketTopics
from streamforge.services.loader_ws.trades import Trades


class FrameRouter:
    """``on_frames`` of :class:`~streamforge.exchanges.binance.ws.BinanceStreams`."""

    def __init__(
        self,
        topics: MarketTopics,
        publisher: Publisher,
        trades: Trades,
        books: Books,
        bbo: BboGate,
        dead_letters: DeadLetters,
        stats: LoaderStats,
    ) -> None:
        self._topics = topics
        self._publisher = publisher
        self._trades = trades
        self._books = books
        self._bbo = bbo
        self._dead_letters = dead_letters
        self._stats = stats
        self._keys: dict[str, bytes] = {}

    @staticmethod
    def key_of(symbol: str) -> bytes:
        """The Kafka key of a symbol's records: ``binance:SYMBOL``."""
        return f"{EXCHANGE}:{symbol}".encode()

    def accept(self, symbol: str) -> bytes:
        """Route ``symbol``'s frames from now on; returns its key."""
        key = self._keys.get(symbol)
        if key is None:
            key = self._keys[symbol] = self.key_of(symbol)
        return key

    def refuse(self, symbol: str) -> None:
        """Drop ``symbol``'s frames from now on (some may still be in flight)."""
        self._keys.pop(symbol, None)

    def __call__(self, frames: list[bytes], receive_ms: int) -> None:
        """Route the frames of one socket read, received at ``receive_ms``."""
        self._stats.frames += len(frames)
        keys = self._keys
        for frame in frames:
            try:
                record = decode_live_frame(frame, receive_ms)
            except FrameError as exc:
                self._dead_letters.offer(frame, exc)
                continue
            key = keys.get(record.symbol)
            if key is None:
                continue
            if isinstance(record, EncodedTrade):
                self._trades.on_trade(record, key)
            elif isinstance(record, DepthDiff):
                self._books.on_diff(record, key)
            elif isinstance(record, BBO):
                self._bbo.offer(record, key)
            else:
                topic = self._topics.candles if isinstance(record, Candle) else self._topics.ticker
                self._publisher.offer(topic, key, encode(record), record.event_time)

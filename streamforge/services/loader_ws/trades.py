"""Gap-free aggregate trades: per symbol, ``md.trades`` ids are continuous and never repeat.

Each symbol's tape remembers the last trade id it published. A live trade is

* published when it is the next id (or the first one seen);
* dropped as a duplicate when its id is not above the last one (make-before-break reconnects and
  backfill overlaps deliver some twice);
* held when it leaves a gap, and a *repair* starts: missing ids are fetched over REST by ``fromId``
  (1000 a page, within the weight budget) and published in id order, then the held live trades
  are released in order; if they still leave a gap, the repair fetches again.

A reconnect (the stream listener's ``on_connected(..., reconnect=True)``) starts a repair at once,
so trades missed while disconnected are back even before the next live trade. Live trades arriving
during a repair are held (at most ``max_held`` a symbol; beyond that they are dropped and the next
round of the repair fetches them). A trade refused by the full publish queue is not marked
published, so it too comes back through a repair.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import logging
from dataclasses import dataclass, field

import httpx

from streamforge.exchanges.binance.normalize import FrameError
from streamforge.exchanges.binance.rest import MAX_ROWS, BinanceAPIError, BinanceRest
from streamforge.exchanges.binance.trade_json import EncodedTrade
from streamforge.schemas import encode
from streamforge.services.loader_ws.metrics import LoaderStats
from streamforge.services.loader_ws.publisher import Publisher

log = logging.getLogger(__name__)

#: Live trades held per symbol while its gap is repaired.
DEFAULT_MAX_HELD = 100_000
_RETRY_INITIAL_S = 0.5
_RETRY_MAX_S = 30.0


@dataclass
class _Tape:
    symbol: str
    key: bytes
    last_id: int | None = None
    held: list[tuple[int, int, EncodedTrade]] = field(default_factory=list)  # a heap by trade id
    repair: asyncio.Task[None] | None = None


class Trades:
    """Publishes each symbol's aggregate trades to ``md.trades`` without gaps or repeats.

    With ``gap_free=False`` every live trade is published as received (no dedupe, no backfill).
    """

    def __init__(
        self,
        publisher: Publisher,
        rest: BinanceRest,
        topic: str,
        stats: LoaderStats,
        *,
        gap_free: bool = True,
        max_held: int = DEFAULT_MAX_HELD,
    ) -> None:
        self._publisher = publisher
        self._rest = rest
        self._topic = topic
        self._stats = stats
        self._gap_free = gap_free
        self._max_held = max_held
        self._tapes: dict[str, _Tape] = {}
        self._order = itertools.count()  # breaks ties between held copies of one trade

    def add(self, symbol: str, key: bytes) -> None:
        """Follow ``symbol``; its first live trade starts the tape."""
        if symbol not in self._tapes:
            self._tapes[symbol] = _Tape(symbol, key)

    def remove(self, symbol: str) -> None:
        """Stop following ``symbol`` (cancels its repair)."""
        tape = self._tapes.pop(symbol, None)
        if tape is not None and tape.repair is not None:
            tape.repair.cancel()

    def last_id(self, symbol: str) -> int | None:
        """The last trade id published for ``symbol``."""
        tape = self._tapes.get(symbol)
        return None if tape is None else tape.last_id

    def on_trade(self, trade: EncodedTrade, key: bytes) -> None:
        """Publish, hold or drop one live trade (the hot path of aggTrade streams)."""
        if not self._gap_free:
            self._publisher.offer(self._topic, key, trade.value, trade.event_time)
            return
        tape = self._tapes.get(trade.symbol)
        if tape is None:
            return
        trade_id = trade.trade_id
        last = tape.last_id
        if tape.repair is None and (last is None or trade_id == last + 1):
            if self._publisher.offer(self._topic, key, trade.value, trade.event_time):
                tape.last_id = trade_id
        elif last is not None and trade_id <= last:
            self._stats.duplicates += 1
        elif len(tape.held) < self._max_held:
            heapq.heappush(tape.held, (trade_id, next(self._order), trade))
            self._start_repair(tape)

    def on_reconnect(self, symbol: str) -> None:
        """Trades of ``symbol`` may have been missed: fetch them now."""
        tape = self._tapes.get(symbol)
        if self._gap_free and tape is not None and tape.last_id is not None:
            self._start_repair(tape)

    async def close(self) -> None:
        """Cancel every repair in progress."""
        repairs = [t.repair for t in self._tapes.values() if t.repair is not None]
        for repair in repairs:
            repair.cancel()
        for repair in repairs:
            with contextlib.suppress(asyncio.CancelledError):
                await repair

    def _start_repair(self, tape: _Tape) -> None:
        if tape.repair is None:
            tape.repair = asyncio.create_task(self._repair(tape), name=f"trades-{tape.symbol}")

    async def _repair(self, tape: _Tape) -> None:
        retry_s = _RETRY_INITIAL_S
        try:
            while True:
                before = tape.last_id
                await self._fetch_missing(tape)
                if not await self._release_held(tape):
                    return
                if tape.last_id == before:  # REST is behind the stream: ask again later
                    await asyncio.sleep(retry_s)
                    retry_s = min(retry_s * 2, _RETRY_MAX_S)
        except Exception:  # the next gap starts a new repair; streaming goes on
            log.exception("%s: trade repair failed", tape.symbol)
        finally:
            tape.repair = None

    async def _fetch_missing(self, tape: _Tape) -> None:
        """Publish REST trades after the last id up to the held ones (or up to the present)."""
        assert tape.last_id is not None  # a tape only has a gap after its first trade
        retry_s = _RETRY_INITIAL_S
        while tape.held == [] or tape.last_id + 1 < tape.held[0][0]:
            try:
                page = await self._rest.agg_trades(
                    tape.symbol, from_id=tape.last_id + 1, limit=MAX_ROWS
                )
            except (BinanceAPIError, FrameError, httpx.HTTPError) as exc:
                log.warning(
                    "%s: trade backfill failed, retrying in %.1f s: %s", tape.symbol, retry_s, exc
                )
                await asyncio.sleep(retry_s)
                retry_s = min(retry_s * 2, _RETRY_MAX_S)
                continue
            for trade in page:
                if trade.trade_id <= tape.last_id:
                    continue
                if trade.trade_id != tape.last_id + 1:
                    log.error(
                        "%s: the exchange has no trades %d-%d",
                        tape.symbol,
                        tape.last_id + 1,
                        trade.trade_id - 1,
                    )
                await self._publisher.put(self._topic, tape.key, encode(trade), trade.event_time)
                tape.last_id = trade.trade_id
                self._stats.backfilled += 1
            if len(page) < MAX_ROWS:
                return  # caught up with the exchange

    async def _release_held(self, tape: _Tape) -> bool:
        """Publish held trades that continue the tape; True if a gap remains before the rest."""
        held = tape.held
        while held:
            trade_id, _, trade = held[0]
            assert tape.last_id is not None
            if trade_id > tape.last_id + 1:
                return True
            heapq.heappop(held)
            if trade_id <= tape.last_id:
                self._stats.duplicates += 1
                continue
            await self._publisher.put(self._topic, tape.key, trade.value, trade.event_time)
            tape.last_id = trade_id
        return False

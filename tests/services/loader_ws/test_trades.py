"""md.trades is gap-free: trades missed while disconnected come back over REST, in id order."""

from __future__ import annotations

import pytest

from streamforge.bus.topics import TRADES
from streamforge.config import Settings
from streamforge.exchanges.binance.rest import BinanceRest
from streamforge.exchanges.binance.ws import StreamOptions
from streamforge.schemas import Trade
from streamforge.services.loader_ws import Pipeline
from streamforge.simulator import Simulator
from tests.services.loader_ws.helpers import (
    SYMBOLS,
    eventually,
    loader,
    pointed_at,
    reader,
    running,
)

pytestmark = pytest.mark.kafka

#: Reconnect after up to a second: the exchange trades on meanwhile.
SLOW_RECONNECTS = StreamOptions(backoff_initial_s=0.5, backoff_max_s=1.0)


async def test_a_forced_disconnect_loses_no_trade(settings: Settings, sim: Simulator) -> None:
    service = loader(*SYMBOLS, kinds=("aggTrade",), streams=SLOW_RECONNECTS)
    async with running(service, pointed_at(settings, sim)) as pipe:
        await eventually(lambda: all(pipe.trades.last_id(s) for s in SYMBOLS), what="trades")
        # The exchange trades on while the loader reconnects; how many trades that window
        # holds is random, so disconnect until one reconnect had some to fetch.
        for _ in range(5):
            await disconnect_and_resume(sim, pipe)
            if pipe.stats.backfilled:
                break
        assert pipe.stats.backfilled > 0

    async with reader(settings, TRADES, Trade) as md:
        published = await md.read_all()
    async with BinanceRest(sim.rest_url) as rest:
        for symbol in SYMBOLS:
            tape = [t for t in published if t.symbol == symbol]
            ids = [t.trade_id for t in tape]
            assert ids == list(range(ids[0], ids[0] + len(ids))), symbol
            compared = min(len(tape), 1000)  # one REST page
            exchange = await rest.agg_trades(symbol, from_id=ids[0], limit=compared)
            assert [_fields(t) for t in tape[:compared]] == [_fields(t) for t in exchange]


async def test_trades_shed_by_a_full_queue_come_back_over_rest(
    settings: Settings, sim: Simulator
) -> None:
    # A queue of one byte refuses every record after the first of an event-loop turn, and the
    # exchange sends its trades in bursts: most live trades are shed and fetched again.
    service = loader(*SYMBOLS, kinds=("aggTrade",), max_queued_bytes=1)
    async with running(service, pointed_at(settings, sim)) as pipe:
        await eventually(
            lambda: pipe.stats.shed >= 5 and pipe.stats.backfilled >= 5, what="sheds repaired"
        )
        marks = {s: pipe.trades.last_id(s) or 0 for s in SYMBOLS}
        await eventually(lambda: all((pipe.trades.last_id(s) or 0) > marks[s] for s in SYMBOLS))

    async with reader(settings, TRADES, Trade) as md:
        published = await md.read_all()
    for symbol in SYMBOLS:
        ids = [t.trade_id for t in published if t.symbol == symbol]
        assert ids == list(range(ids[0], ids[0] + len(ids))), symbol


async def disconnect_and_resume(sim: Simulator, pipe: Pipeline) -> None:
    """Drop every connection; return once each symbol has 10 more trades than before."""
    marks = {s: pipe.trades.last_id(s) or 0 for s in SYMBOLS}
    reconnects = pipe.stats.reconnects
    await sim.disconnect_all()
    await eventually(lambda: pipe.stats.reconnects > reconnects, what="reconnect")
    await eventually(
        lambda: all((pipe.trades.last_id(s) or 0) > marks[s] + 10 for s in SYMBOLS),
        what="streaming again",
    )


def _fields(trade: Trade) -> tuple[object, ...]:
    """What live and REST trades share (REST has no event time of its own)."""
    return (trade.trade_id, trade.price, trade.qty, trade.trade_time, trade.buyer_is_maker)

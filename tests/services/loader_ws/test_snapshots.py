"""Snapshots are fetched one at a time, each symbol once, paced within their weight budget."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import AsyncIterator

import pytest

from streamforge.services.loader_ws.snapshots import SnapshotPolicy, SnapshotScheduler
from tests.services.loader_ws.helpers import eventually

#: One snapshot costs 10 and the budget refills 1200 a minute: one snapshot every 0.5 s.
WEIGHT = 10
SPACING_S = 0.5


class Fetches:
    """When each symbol's snapshot was fetched, and how many fetches overlapped at most."""

    def __init__(self) -> None:
        self.at: list[tuple[str, float]] = []
        self.running = 0
        self.most_at_once = 0

    async def fetch(self, symbol: str) -> None:
        self.running += 1
        self.most_at_once = max(self.most_at_once, self.running)
        self.at.append((symbol, time.monotonic()))
        await asyncio.sleep(0.01)  # the REST round trip
        self.running -= 1


@contextlib.asynccontextmanager
async def scheduler(fetches: Fetches, burst: int) -> AsyncIterator[SnapshotScheduler]:
    paced = SnapshotScheduler(
        fetches.fetch, weight=WEIGHT, weight_per_minute=WEIGHT * 60 / SPACING_S, burst=burst
    )
    task = asyncio.create_task(paced.run())
    try:
        yield paced
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_a_mass_resync_goes_out_as_a_burst_then_paced() -> None:
    fetches = Fetches()
    symbols = [f"SYM{i}USDT" for i in range(6)]
    async with scheduler(fetches, burst=2) as paced:
        start = time.monotonic()
        for symbol in symbols:
            paced.request(symbol)
        await eventually(lambda: len(fetches.at) == len(symbols))
    assert [symbol for symbol, _ in fetches.at] == symbols
    times = [at - start for _, at in fetches.at]
    assert times[1] < SPACING_S  # the burst
    for earlier, later in itertools.pairwise(times[1:]):
        assert later - earlier >= SPACING_S * 0.9
    assert fetches.most_at_once == 1


async def test_a_symbol_is_fetched_once_however_often_asked_and_never_once_cancelled() -> None:
    fetches = Fetches()
    async with scheduler(fetches, burst=1) as paced:
        paced.request("BTCUSDT")  # spends the burst
        for _ in range(3):
            paced.request("ETHUSDT")
        paced.request("XRPUSDT")
        paced.cancel("XRPUSDT")
        assert paced.pending == 2
        await eventually(lambda: len(fetches.at) == 2)
        await asyncio.sleep(SPACING_S * 2)
    assert [symbol for symbol, _ in fetches.at] == ["BTCUSDT", "ETHUSDT"]


def test_a_policy_outside_the_exchange_limits_is_refused() -> None:
    with pytest.raises(ValueError, match="limit must be 1-5000"):
        SnapshotPolicy(limit=10_000)
    with pytest.raises(ValueError, match="budget share"):
        SnapshotPolicy(budget_share=0)

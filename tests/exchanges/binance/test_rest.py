"""The REST client against the simulator over real HTTP: shapes, weight, 429, 5xx, errors."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from streamforge.exchanges.binance.rest import (
    BinanceAPIError,
    BinanceRest,
    RetryPolicy,
    WeightBudget,
    depth_weight,
)
from streamforge.simulator import SimConfig, Simulator

HOUR_MS = 3_600_000
START = 1_722_470_400_000  # 2024-08-01T00:00:00Z


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    async with Simulator(SimConfig(seed=3, symbols=("BTCUSDT",), weight_limit=10_000)) as running:
        yield running


@pytest.fixture
async def rest(sim: Simulator) -> AsyncIterator[BinanceRest]:
    async with BinanceRest(sim.rest_url, retry=RetryPolicy(initial_s=0.01, max_s=0.05)) as client:
        yield client


async def test_klines_normalize_with_exact_text(rest: BinanceRest) -> None:
    candles = await rest.klines("BTCUSDT", "5m", start_time=START, end_time=START + HOUR_MS - 1)
    assert len(candles) == 12
    assert [c.open_time for c in candles] == [START + i * 300_000 for i in range(12)]
    assert all(c.symbol == "BTCUSDT" and c.interval == "5m" for c in candles)
    assert all("." in c.close for c in candles)  # decimal text, not floats


async def test_agg_trades_page_by_id_without_gaps(rest: BinanceRest) -> None:
    first = await rest.agg_trades("BTCUSDT", start_time=START, end_time=START + HOUR_MS - 1)
    assert first, "the synthetic market trades every hour"
    following = await rest.agg_trades("BTCUSDT", from_id=first[-1].trade_id + 1, limit=50)
    ids = [t.trade_id for t in first + following]
    assert ids == list(range(ids[0], ids[0] + len(ids)))


async def test_depth_snapshot(rest: BinanceRest) -> None:
    book = await rest.depth("BTCUSDT", limit=100)
    assert book.last_update_id > 0
    assert 0 < len(book.bids) <= 100
    assert float(book.bids[0][0]) < float(book.asks[0][0])


async def test_budget_follows_the_exchange_weight_header(rest: BinanceRest) -> None:
    await rest.depth("BTCUSDT", limit=5000)
    await rest.klines("BTCUSDT", "1m", limit=10)
    assert rest.budget.used >= depth_weight(5000) + 2


async def test_invalid_symbol_raises_with_binance_code(rest: BinanceRest) -> None:
    with pytest.raises(BinanceAPIError, match="code -1121") as info:
        await rest.klines("NOPEUSDT", "1m")
    assert info.value.status == 400


async def test_5xx_is_retried_until_it_succeeds(sim: Simulator, rest: BinanceRest) -> None:
    sim.set_faults(rest_error_next=3)
    candles = await rest.klines("BTCUSDT", "1h", start_time=START, limit=2)
    assert len(candles) == 2
    assert rest.requests == 4


async def test_persistent_5xx_gives_up_with_a_clear_error(sim: Simulator) -> None:
    sim.set_faults(rest_error_ratio=1.0)
    async with BinanceRest(sim.rest_url, retry=RetryPolicy(attempts=3, initial_s=0.01)) as rest:
        with pytest.raises(BinanceAPIError, match="gave up after 3 attempts"):
            await rest.klines("BTCUSDT", "1m", limit=1)


async def test_429_is_honoured_by_waiting_for_retry_after() -> None:
    config = SimConfig(seed=3, symbols=("BTCUSDT",), weight_limit=60, weight_window_s=2.0)
    async with Simulator(config) as sim:
        # The client believes it has a big budget, so it is the exchange's 429 that stops it.
        budget = WeightBudget(limit=100_000)
        async with BinanceRest(sim.rest_url, budget=budget) as rest:
            started = time.monotonic()
            # 40 x weight 2 > 60 a window, sent at once so that a slow machine cannot spread
            # them over two windows
            pages = await asyncio.gather(
                *(rest.klines("BTCUSDT", "1m", limit=5) for _ in range(40))
            )
            elapsed = time.monotonic() - started
    assert all(len(page) == 5 for page in pages)  # every request got its answer in the end
    assert rest.throttled >= 1
    assert elapsed >= 1.0  # it waited instead of hammering


async def test_budget_waits_for_the_next_minute_instead_of_exceeding_the_limit() -> None:
    if 60 - time.time() % 60 < 1.5:
        await asyncio.sleep(1.6)  # keep clear of a minute boundary
    budget = WeightBudget(limit=10, margin=1.0)
    await budget.reserve(6)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(budget.reserve(6), 0.5)
    budget._minute -= 1  # the minute rolls over: the budget is fresh again
    await asyncio.wait_for(budget.reserve(6), 0.5)
    assert budget.used == 6

"""Damaged and missing bulk files, and server errors, as the loader meets them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from streamforge.bus import ensure_topics, platform_topics
from streamforge.config import Settings
from streamforge.schemas import EventName
from streamforge.services.host import EXIT_ERROR, EXIT_FINISHED
from streamforge.simulator import SimulatorThread
from tests.services.loader_history.helpers import (
    INTERVAL,
    SYMBOL,
    Reference,
    TamperingProxy,
    assert_loaded_exactly,
    events_until_terminal,
    job,
    read_topic,
    run_job,
    settings_for,
)

pytestmark = pytest.mark.kafka

TRADES_2025 = f"{SYMBOL}-aggTrades-2025-01-01.zip"
KLINES_2024 = f"{SYMBOL}-{INTERVAL}-2024-12-31.zip"
TRADES_2024 = f"{SYMBOL}-aggTrades-2024-12-31.zip"


@pytest.fixture
async def proxy(sim: SimulatorThread) -> AsyncIterator[TamperingProxy]:
    async with TamperingProxy(sim.data_url) as running:
        yield running


@pytest.fixture
async def settings(
    kafka_bootstrap: str, sim: SimulatorThread, proxy: TamperingProxy, tmp_path: Path
) -> Settings:
    """Settings whose bulk files come through the proxy."""
    settings = settings_for(kafka_bootstrap, sim, tmp_path, data_url=proxy.url)
    await ensure_topics(settings, platform_topics(market_partitions=1))
    return settings


async def test_a_damaged_file_is_downloaded_again(
    settings: Settings, proxy: TamperingProxy, expected: Reference
) -> None:
    proxy.corrupt[TRADES_2025] = 1
    assert await run_job(settings, "q-damaged", job()) == EXIT_FINISHED
    assert [name for name, _ in proxy.served].count(TRADES_2025) == 2
    assert_loaded_exactly(await read_topic(settings, "q-damaged"), expected)


async def test_a_file_damaged_twice_fails_the_job_naming_it(
    settings: Settings, proxy: TamperingProxy, tmp_path: Path
) -> None:
    proxy.corrupt[KLINES_2024] = -1
    assert await run_job(settings, "q-bad", job()) == EXIT_ERROR
    error = (await events_until_terminal(settings, "q-bad"))[-1]
    assert error.event is EventName.ERROR
    assert error.payload["reason"].startswith(f"checksum mismatch for {KLINES_2024}: ")
    assert error.payload["error_type"] == "ChecksumError"
    assert not list((tmp_path / "downloads").rglob("*.zip")), "the damaged file is removed"


async def test_a_missing_day_file_is_loaded_from_rest(
    settings: Settings, proxy: TamperingProxy, expected: Reference
) -> None:
    proxy.missing.add(TRADES_2024)
    assert await run_job(settings, "q-missing", job()) == EXIT_FINISHED
    assert proxy.files(404) == {TRADES_2024}
    assert TRADES_2025 in proxy.files(200)
    assert_loaded_exactly(await read_topic(settings, "q-missing"), expected)


async def test_server_errors_of_rest_and_of_the_data_site_are_retried(
    settings: Settings, proxy: TamperingProxy, sim: SimulatorThread, expected: Reference
) -> None:
    proxy.unavailable[TRADES_2024] = 2
    sim.set_faults(rest_error_next=3)  # the job's first requests: REST klines of the first day
    try:
        assert await run_job(settings, "q-5xx", job()) == EXIT_FINISHED
    finally:
        sim.set_faults(rest_error_next=0)
    assert sim.simulator.faults.rest_error_next == 0, "the three errors were served"
    assert [status for name, status in proxy.served if name == TRADES_2024] == [503, 503, 200]
    assert_loaded_exactly(await read_topic(settings, "q-5xx"), expected)

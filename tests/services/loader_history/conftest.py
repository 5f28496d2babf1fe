"""A small synthetic market (one symbol, a trade every ten seconds) and settings pointing at it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from streamforge.bus import ensure_topics, platform_topics
from streamforge.config import Settings
from streamforge.simulator import SimConfig, SimulatorThread
from tests.services.loader_history.helpers import SYMBOL, Reference, reference, settings_for


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    """History from 2024-12-01, so the tests' range spans millisecond and microsecond files."""
    config = SimConfig(
        seed=5,
        symbols=(SYMBOL,),
        trade_rate=0.1,
        genesis=date(2024, 12, 1),
        weight_limit=10_000_000,
    )
    with SimulatorThread(config) as running:
        yield running


@pytest.fixture(scope="module")
def expected(sim: SimulatorThread) -> Reference:
    """The klines and trades the REST API serves for the tests' range."""
    return reference(sim)


@pytest.fixture
async def settings(kafka_bootstrap: str, sim: SimulatorThread, tmp_path: Path) -> Settings:
    """Settings of one test: its own topic prefix and data directory."""
    settings = settings_for(kafka_bootstrap, sim, tmp_path)
    await ensure_topics(settings, platform_topics(market_partitions=1))
    return settings

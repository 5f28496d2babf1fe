"""Simulators shared by these tests, each in its own thread so any test loop can use it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from streamforge.simulator import SimConfig, SimulatorThread

#: High enough that the shared simulators never answer 429 to the tests' paging.
NO_LIMIT = 10_000_000


@pytest.fixture(scope="module")
def sim() -> Iterator[SimulatorThread]:
    """A synthetic market at the default trade rate (one aggregate trade every two seconds)."""
    with SimulatorThread(SimConfig(seed=7, weight_limit=NO_LIMIT)) as running:
        yield running


@pytest.fixture(scope="module")
def busy_sim() -> Iterator[SimulatorThread]:
    """One busy symbol, for tests that watch live streams for a few seconds."""
    config = SimConfig(seed=11, symbols=("BTCUSDT",), trade_rate=4.0, weight_limit=NO_LIMIT)
    with SimulatorThread(config) as running:
        yield running


@pytest.fixture
def http(sim: SimulatorThread) -> Iterator[httpx.Client]:
    """A REST client of the shared simulator."""
    with httpx.Client(base_url=sim.rest_url, timeout=30) as client:
        yield client

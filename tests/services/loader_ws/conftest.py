"""Fixtures of the loader-ws tests: topics on the session's broker and a simulator per test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from streamforge.bus import ensure_topics, platform_topics
from streamforge.config import Settings
from streamforge.simulator import Simulator
from tests.services.loader_ws.helpers import MARKET


@pytest.fixture
async def settings(kafka_settings: Settings) -> Settings:
    """The session's broker with every platform topic under this test's own prefix."""
    await ensure_topics(kafka_settings, platform_topics(market_partitions=2))
    return kafka_settings


@pytest.fixture
async def sim() -> AsyncIterator[Simulator]:
    """A simulator of :data:`MARKET` for this test alone (its faults are the test's)."""
    async with Simulator(MARKET) as running:
        yield running

"""Fixtures of the console tests."""

from __future__ import annotations

import pytest

from streamforge.bus import ensure_topics, platform_topics
from streamforge.config import Settings


@pytest.fixture
async def settings(kafka_settings: Settings) -> Settings:
    """Settings for the test broker, with this test's own platform topics created."""
    await ensure_topics(kafka_settings, platform_topics(market_partitions=1))
    return kafka_settings

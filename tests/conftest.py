"""Fixtures shared by the whole test suite: the Kafka cluster and per-test topic isolation."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from dev_env.kafka import kafka_for_tests
from streamforge.bus import ensure_topics, platform_topics
from streamforge.config import Settings, load_settings

# A shared 2-core machine makes single examples slow now and then: judge properties, not speed.
settings.register_profile(
    "streamforge", deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("streamforge")


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``host:port`` of the session's Kafka: ``STREAMFORGE_KAFKA_BOOTSTRAP``, a container
    (``STREAMFORGE_TEST_KAFKA=container``) or a local broker started for this session."""
    with kafka_for_tests(tmp_path_factory.mktemp("kafka")) as bootstrap:
        yield bootstrap


@pytest.fixture
def kafka_settings(kafka_bootstrap: str) -> Settings:
    """Settings for the session's Kafka, with a topic prefix of this test's own."""
    return load_settings(
        env={
            "STREAMFORGE_KAFKA_BOOTSTRAP": kafka_bootstrap,
            "STREAMFORGE_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}.",
        }
    )


@pytest.fixture
async def platform_settings(kafka_settings: Settings) -> Settings:
    """:func:`kafka_settings` with every platform topic created under its prefix."""
    await ensure_topics(kafka_settings, platform_topics(market_partitions=1))
    return kafka_settings


@pytest.fixture
def unique_topic() -> str:
    """A topic name no other test uses."""
    return f"test.{uuid.uuid4().hex[:12]}"

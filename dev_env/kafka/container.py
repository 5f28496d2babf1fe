"""Kafka in a Docker container through testcontainers, for hosts that prefer that to a local JVM.

Needs the ``container`` extra (``testcontainers[kafka]``) and a Docker daemon. The
testcontainers ``KafkaContainer`` drives the start scripts of Confluent's ``cp-kafka`` image,
run here in KRaft mode.
"""

from __future__ import annotations

from collections.abc import Callable

from dev_env.kafka.errors import KafkaContainerError

DEFAULT_IMAGE = "confluentinc/cp-kafka:7.9.0"


def start_kafka_container(
    image: str = DEFAULT_IMAGE, timeout: int = 120
) -> tuple[str, Callable[[], None]]:
    """Start a single-node KRaft Kafka container; its bootstrap ``host:port`` and its stop."""
    try:
        from testcontainers.kafka import KafkaContainer
    except ImportError:
        raise KafkaContainerError(
            "testcontainers is not installed: install StreamForge with the 'container' extra"
        ) from None
    container = (
        KafkaContainer(image)
        .with_kraft()
        .with_env("KAFKA_AUTO_CREATE_TOPICS_ENABLE", "false")
        .with_env("KAFKA_NUM_PARTITIONS", "1")
    )
    try:
        container.start(timeout=timeout)
    except Exception as exc:  # docker, network and timeout errors alike
        raise KafkaContainerError(f"cannot start the Kafka container {image}: {exc}") from exc
    bootstrap: str = container.get_bootstrap_server()
    return bootstrap, container.stop

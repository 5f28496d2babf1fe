"""The local Kafka broker: lifecycle against a real JVM, and the errors of a broken setup."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from dev_env.kafka import (
    BrokerAlreadyRunningError,
    BrokerStartError,
    JavaError,
    KafkaDistributionError,
    LocalKafka,
    shared_dist_env,
)
from dev_env.kafka.broker import new_cluster_id
from streamforge.config import Settings


def _pid_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _fake_java(bin_dir: Path, version: str) -> None:
    """A ``java`` on PATH that reports ``version`` and can run nothing."""
    bin_dir.mkdir(exist_ok=True)
    java = bin_dir / "java"
    java.write_text(f"#!/bin/sh\necho 'openjdk version \"{version}\" 2025-04-15' >&2\n")
    java.chmod(0o755)


async def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True)
    await producer.start()
    try:
        for value in values:
            await producer.send_and_wait(topic, value)
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    values: list[bytes] = []
    try:
        async with asyncio.timeout(30):
            while len(values) < count:
                batches = await consumer.getmany(timeout_ms=1000)
                values += [record.value for records in batches.values() for record in records]
    finally:
        await consumer.stop()
    return values


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[LocalKafka]:
    kafka = LocalKafka(tmp_path / "kafka", port=0, env=shared_dist_env())
    yield kafka
    kafka.stop(missing_ok=True)


@pytest.mark.kafka
async def test_broker_serves_clients_stops_and_keeps_data_across_restarts(
    broker: LocalKafka, unique_topic: str
) -> None:
    first = await asyncio.to_thread(broker.start)
    await _produce(first.bootstrap, unique_topic, [b"one", b"two"])
    assert await _consume(first.bootstrap, unique_topic, 2) == [b"one", b"two"]

    second = LocalKafka(broker.data_dir, port=0, env=shared_dist_env())
    running = re.escape(f"already runs on {first.bootstrap}") + f".* \\(pid {first.pid}\\)$"
    with pytest.raises(BrokerAlreadyRunningError, match=running):
        second.start()

    meta = broker.data_dir / "storage" / "meta.properties"
    cluster = meta.read_text()
    await asyncio.to_thread(second.stop)  # found through the data dir, not the starter
    assert not _pid_exists(first.pid)
    assert broker.running() is None

    again = await asyncio.to_thread(broker.start)
    assert again.pid != first.pid
    assert meta.read_text() == cluster  # not formatted a second time
    assert await _consume(again.bootstrap, unique_topic, 2) == [b"one", b"two"]


@pytest.mark.kafka
async def test_session_cluster_serves_each_test_its_own_topics(
    kafka_settings: Settings, unique_topic: str
) -> None:
    topic = kafka_settings.topic(unique_topic)
    assert topic.startswith(kafka_settings.topic_prefix)
    assert kafka_settings.topic_prefix

    await _produce(kafka_settings.kafka.bootstrap, topic, [b"mine"])

    assert await _consume(kafka_settings.kafka.bootstrap, topic, 1) == [b"mine"]


@pytest.mark.kafka
def test_broker_dying_at_start_reports_the_log_line(broker: LocalKafka, tmp_path: Path) -> None:
    kafka_home = tmp_path / "kafka-home"
    (kafka_home / "libs").mkdir(parents=True)
    (kafka_home / "libs" / "kafka_2.13-0.0.jar").write_bytes(b"")  # not a jar at all
    # Pretend storage is formatted, so the broker JVM itself is what fails.
    (broker.data_dir / "storage").mkdir(parents=True)
    (broker.data_dir / "storage" / "meta.properties").touch()
    (broker.data_dir / "logs").mkdir()
    (broker.data_dir / "logs" / "server.log").write_text("[x] ERROR a failure of an earlier run\n")
    broken = LocalKafka(broker.data_dir, port=0, env={**os.environ, "KAFKA_HOME": str(kafka_home)})

    with pytest.raises(BrokerStartError, match="exited with code 1 before it was ready") as caught:
        broken.start()

    assert "kafka.Kafka" in str(caught.value)
    assert "earlier run" not in str(caught.value)
    assert "\n" not in str(caught.value)
    assert any("Could not find or load main class" in note for note in caught.value.__notes__)
    assert broken.running() is None


def test_kafka_home_without_jars_is_refused(broker: LocalKafka, tmp_path: Path) -> None:
    (tmp_path / "kafka-home" / "libs").mkdir(parents=True)
    env = {**os.environ, "KAFKA_HOME": str(tmp_path / "kafka-home")}

    with pytest.raises(KafkaDistributionError, match="is not an Apache Kafka distribution"):
        LocalKafka(broker.data_dir, port=0, env=env).start()


def test_missing_maven_is_refused(broker: LocalKafka, tmp_path: Path) -> None:
    _fake_java(tmp_path / "bin", "17.0.15")
    env = {"PATH": str(tmp_path / "bin")}

    with pytest.raises(
        KafkaDistributionError, match=r"^Maven not found: install Maven or set KAFKA_HOME"
    ):
        LocalKafka(broker.data_dir, port=0, env=env).start()
    assert not (broker.data_dir / "kafka-4.1.1" / "libs").exists()


@pytest.mark.parametrize(
    ("version", "message"),
    [(None, "^Java not found"), ("1.8.0_392", "needs Java 17\\+, .* is Java 8$")],
)
def test_missing_or_old_java_is_refused(
    broker: LocalKafka, tmp_path: Path, version: str | None, message: str
) -> None:
    if version is None:
        (tmp_path / "bin").mkdir()
    else:
        _fake_java(tmp_path / "bin", version)

    with pytest.raises(JavaError, match=message):
        LocalKafka(broker.data_dir, port=0, env={"PATH": str(tmp_path / "bin")}).start()


def test_port_in_use_is_refused(broker: LocalKafka) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]

        with pytest.raises(BrokerStartError, match=f"^port {port} on 127.0.0.1 is already in use$"):
            LocalKafka(broker.data_dir, port=port, env=shared_dist_env()).start()


def test_cluster_ids_never_look_like_an_option() -> None:
    # One id in 64 would start with "-" if drawn naively; the storage tool then fails.
    ids = {new_cluster_id() for _ in range(2000)}
    assert len(ids) == 2000
    assert not any(i.startswith("-") for i in ids)
    assert all(len(i) == 22 for i in ids)

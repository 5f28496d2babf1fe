"""The producer: idempotent per the broker, keyed order, acknowledged offsets, flush on stop."""

from __future__ import annotations

import os

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka.structs import TopicPartition

from streamforge.bus import BusProducer, ProducerError, ProducerOptions, TopicSpec, ensure_topics
from streamforge.bus.batches import BatchEncoder
from streamforge.config import Settings
from tests.bus.broker_probe import active_producers

pytestmark = pytest.mark.kafka


async def make_topic(settings: Settings, name: str, partitions: int = 1) -> str:
    """Create topic ``name`` under the test's prefix; return its full name."""
    await ensure_topics(settings, [TopicSpec(name, partitions=partitions)])
    return settings.topic(name)


async def read_all(settings: Settings, topic: str, expected: int) -> list[tuple[int, bytes, bytes]]:
    """Every record of ``topic`` as (partition, key, value), reading until ``expected``."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=settings.kafka.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    out: list[tuple[int, bytes, bytes]] = []
    try:
        for _ in range(100):
            batches = await consumer.getmany(timeout_ms=200)
            for tp, records in batches.items():
                out.extend((tp.partition, r.key, r.value) for r in records)
            if len(out) >= expected:
                break
    finally:
        await consumer.stop()
    return out


async def test_broker_tracks_the_producer_as_idempotent(kafka_settings: Settings) -> None:
    topic = await make_topic(kafka_settings, "idempotence", partitions=1)
    async with BusProducer(kafka_settings) as producer:
        await producer.send(topic, b"one", key=b"k")
        for i in range(99):
            await producer.publish(topic, str(i).encode(), key=b"k")
    producers = await active_producers(kafka_settings.kafka.bootstrap, TopicPartition(topic, 0))
    assert len(producers) == 1
    assert producers[0].producer_id >= 0
    assert producers[0].last_sequence == 99  # 100 records, sequence numbers 0..99


async def test_published_records_keep_per_key_order_and_partition(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "ordered", partitions=4)
    keys = [f"binance:SYM{i}".encode() for i in range(8)]
    async with BusProducer(kafka_settings, ProducerOptions(max_batch_bytes=4096)) as producer:
        expected_partition = {key: await producer.partition_for(topic, key) for key in keys}
        for n in range(2000):
            key = keys[n % len(keys)]
            await producer.publish(topic, f"{key.decode()}#{n}".encode(), key=key)
        await producer.flush()
        offsets = producer.produced_offsets
    assert sum(offsets.values()) == 2000
    records = await read_all(kafka_settings, topic, 2000)
    assert len(records) == 2000
    for key in keys:
        mine = [(p, v) for p, k, v in records if k == key]
        assert {p for p, _ in mine} == {expected_partition[key]}
        sequence = [int(v.split(b"#")[1]) for _, v in mine]
        assert sequence == sorted(sequence)


async def test_keyed_send_and_publish_agree_on_partitions(kafka_settings: Settings) -> None:
    topic = await make_topic(kafka_settings, "agree", partitions=6)
    async with BusProducer(kafka_settings) as producer:
        for i in range(12):
            key = f"binance:S{i}".encode()
            sent = await producer.send(topic, b"via-send", key=key)
            assert sent.partition == await producer.partition_for(topic, key)


async def test_stop_flushes_what_was_published(kafka_settings: Settings) -> None:
    topic = await make_topic(kafka_settings, "flush-on-stop", partitions=2)
    producer = BusProducer(kafka_settings, ProducerOptions(linger_ms=10_000))
    await producer.start()
    for i in range(500):
        await producer.publish(topic, str(i).encode(), key=b"k")
    await producer.stop()  # linger never fired: stop must send everything
    assert len(await read_all(kafka_settings, topic, 500)) == 500


async def test_memory_bound_applies_backpressure_without_losing_records(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "bounded", partitions=3)
    options = ProducerOptions(max_batch_bytes=16 * 1024, max_in_flight_bytes=32 * 1024)
    async with BusProducer(kafka_settings, options) as producer:
        for i in range(5000):
            await producer.publish(topic, b"x" * 200, key=str(i % 7).encode())
            assert producer._buffered_bytes <= options.max_in_flight_bytes + 16 * 1024
        await producer.flush()
        assert sum(producer.produced_offsets.values()) == 5000


async def test_undeliverable_record_fails_the_flush_loudly(kafka_settings: Settings) -> None:
    topic = await make_topic(kafka_settings, "too-big")
    async with BusProducer(kafka_settings) as producer:
        await producer.publish(topic, os.urandom(2 * 1024 * 1024), key=b"k")
        with pytest.raises(ProducerError, match="not acknowledged"):
            await producer.flush()
        with pytest.raises(ProducerError, match="failed earlier"):
            await producer.publish(topic, b"small", key=b"k")


@pytest.mark.parametrize("compression", ["zstd", "none"])
async def test_encoded_batches_land_in_order_between_published_records(
    kafka_settings: Settings, compression: str
) -> None:
    topic = await make_topic(kafka_settings, f"encoded-{compression}", partitions=3)
    encoder = BatchEncoder(compression, max_batch_bytes=8 * 1024)
    values = [f"encoded-{i}".encode() for i in range(3000)]
    batches = encoder.encode(b"k", values)
    assert len(batches) > 1
    async with BusProducer(kafka_settings) as producer:
        for i in range(10):
            await producer.publish(topic, f"before-{i}".encode(), key=b"k")
        await producer.publish_encoded(topic, b"k", batches)
        await producer.publish(topic, b"after", key=b"k")
        await producer.flush()
        partition = await producer.partition_for(topic, b"k")
        assert producer.produced_offsets == {TopicPartition(topic, partition): 3011}
    records = await read_all(kafka_settings, topic, 3011)
    expected = [f"before-{i}".encode() for i in range(10)] + values + [b"after"]
    assert [(p, k, v) for p, k, v in records] == [(partition, b"k", v) for v in expected]
    # The broker numbered every record of the encoded batches in the producer's sequence.
    producers = await active_producers(
        kafka_settings.kafka.bootstrap, TopicPartition(topic, partition)
    )
    assert [p.last_sequence for p in producers] == [3010]


async def test_records_that_do_not_compress_still_fit_the_broker_limit(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "incompressible")
    values = [os.urandom(1000) for _ in range(3000)]  # 3 MB: above a batch and the broker limit
    async with BusProducer(kafka_settings) as producer:
        await producer.publish_many(topic, [(b"k", value) for value in values])
        await producer.flush()
        assert sum(producer.produced_offsets.values()) == 3000
    assert [v for _, _, v in await read_all(kafka_settings, topic, 3000)] == values

"""The consumer: commit only after the effect, dead letters, backpressure, rebalances."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import ConsumerRecord, TopicPartition

from streamforge.bus import (
    Batch,
    BusConsumer,
    BusProducer,
    ConsumerOptions,
    DeadLetterQueue,
    TopicSpec,
    dlq_topic,
    ensure_topics,
)
from streamforge.bus.metrics import DLQ_RECORDS
from streamforge.config import Settings
from streamforge.schemas import Codec, RawCodec, Trade, encode

pytestmark = pytest.mark.kafka

ROOT = Path(__file__).resolve().parents[2]


def trade(trade_id: int) -> Trade:
    return Trade(
        exchange="binance",
        symbol="ETHUSDT",
        trade_id=trade_id,
        price="3000.10",
        qty="0.25",
        first_trade_id=trade_id,
        last_trade_id=trade_id,
        trade_time=1_700_000_000_000,
        buyer_is_maker=False,
        event_time=1_700_000_000_000,
        receive_time=1_700_000_000_001,
    )


async def make_topic(settings: Settings, name: str, partitions: int = 1) -> str:
    await ensure_topics(settings, [TopicSpec(name, partitions=partitions)])
    return settings.topic(name)


async def produce(settings: Settings, topic: str, values: list[bytes]) -> None:
    async with BusProducer(settings) as producer:
        for value in values:
            await producer.publish(topic, value, key=b"binance:ETHUSDT")


def group() -> str:
    return f"g-{uuid.uuid4().hex[:8]}"


async def drain(consumer: BusConsumer[bytes], polls: int = 10) -> list[bytes]:
    """Poll a few times, handling (and so committing) everything that arrives."""
    seen: list[bytes] = []

    async def handle(batch: Batch[bytes]) -> None:
        seen.extend(batch.values)

    for _ in range(polls):
        await consumer.poll(handle)
    return seen


async def test_failed_handler_commits_nothing_so_records_come_again(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "redeliver")
    await produce(kafka_settings, topic, [b"a", b"b", b"c"])
    options = ConsumerOptions(group_id=group())

    async def crash(batch: Batch[bytes]) -> None:
        raise RuntimeError("store unavailable")

    async def poll_until_the_handler_runs(consumer: BusConsumer[bytes]) -> None:
        for _ in range(20):
            await consumer.poll(crash)

    async with BusConsumer(kafka_settings, [topic], RawCodec(), options=options) as consumer:
        with pytest.raises(RuntimeError, match="store unavailable"):
            await poll_until_the_handler_runs(consumer)

    async with BusConsumer(kafka_settings, [topic], RawCodec(), options=options) as consumer:
        assert await drain(consumer) == [b"a", b"b", b"c"]

    async with BusConsumer(kafka_settings, [topic], RawCodec(), options=options) as consumer:
        assert await drain(consumer, polls=3) == []  # committed: not delivered again


def run_consumer(
    settings: Settings, topic: str, group_id: str, effects: Path, mode: str
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.bus.consume_until_killed",
            settings.kafka.bootstrap,
            topic,
            group_id,
            str(effects),
            mode,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )


async def test_process_killed_before_commit_gets_the_records_again(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    topic = await make_topic(kafka_settings, "sigkill")
    values = [f"r{i}".encode() for i in range(50)]
    await produce(kafka_settings, topic, values)
    group_id, effects = group(), tmp_path / "effects"

    doomed = run_consumer(kafka_settings, topic, group_id, effects, "hang")
    assert doomed.stdout is not None
    line = await asyncio.to_thread(doomed.stdout.readline)
    assert line.startswith("handled 50")
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()

    survivor = run_consumer(kafka_settings, topic, group_id, effects, "commit")
    out, _ = await asyncio.to_thread(survivor.communicate, timeout=120)
    assert survivor.returncode == 0, out
    assert "handled 50" in out and "committed" in out
    assert effects.read_bytes().splitlines() == values * 2  # effect twice: at-least-once

    options = ConsumerOptions(group_id=group_id)
    async with BusConsumer(kafka_settings, [topic], RawCodec(), options=options) as consumer:
        assert await drain(consumer, polls=3) == []


async def test_garbage_goes_to_the_dead_letter_topic_and_consumption_continues(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "market", partitions=1)
    await ensure_topics(kafka_settings, [TopicSpec(dlq_topic("market"))])
    garbage = [b"\x00\x01 not json", b'{"type": "trade", "price": 1.5}']
    await produce(
        kafka_settings, topic, [encode(trade(1)), garbage[0], encode(trade(2)), garbage[1]]
    )
    before = DLQ_RECORDS.labels(topic, "ContractError")._value.get()

    async with BusProducer(kafka_settings) as producer:
        dlq = DeadLetterQueue(producer)
        options = ConsumerOptions(group_id=group())
        async with BusConsumer(
            kafka_settings, [topic], Codec(Trade), options=options, dlq=dlq
        ) as consumer:
            handled: list[Trade] = []

            async def handle(batch: Batch[Trade]) -> None:
                handled.extend(batch.values)

            for _ in range(10):
                await consumer.poll(handle)
    assert [t.trade_id for t in handled] == [1, 2]
    assert dlq.count == 2
    assert DLQ_RECORDS.labels(topic, "ContractError")._value.get() == before + 2

    reader = AIOKafkaConsumer(
        dlq_topic(topic),
        bootstrap_servers=kafka_settings.kafka.bootstrap,
        auto_offset_reset="earliest",
    )
    await reader.start()
    try:
        batches = await reader.getmany(timeout_ms=5000)
    finally:
        await reader.stop()
    dead = [r for records in batches.values() for r in records]
    assert [r.value for r in dead] == garbage
    headers = dict(dead[1].headers)
    assert headers["dlq.source.topic"] == topic.encode()
    assert headers["dlq.source.offset"] == b"3"
    assert headers["dlq.error"] == b"ContractError"
    assert b"price" in headers["dlq.reason"]  # names the offending field


async def test_pause_stops_delivery_until_resume(kafka_settings: Settings) -> None:
    topic = await make_topic(kafka_settings, "paused")
    await produce(kafka_settings, topic, [b"x", b"y"])
    options = ConsumerOptions(group_id=group())
    async with BusConsumer(kafka_settings, [topic], RawCodec(), options=options) as consumer:
        consumer.pause()  # before the group assigns partitions: applies to them too
        assert consumer.paused
        assert await drain(consumer, polls=15) == []
        consumer.resume()
        assert await drain(consumer) == [b"x", b"y"]


async def test_reader_without_group_sees_everything_and_commits_nothing(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "broadcast", partitions=3)
    await produce(kafka_settings, topic, [b"1", b"2"])
    for _ in range(2):  # every reader sees every record
        async with BusConsumer(kafka_settings, [topic], RawCodec()) as reader:
            assert sorted(await drain(reader)) == [b"1", b"2"]


async def test_records_handled_before_a_rebalance_are_not_handled_again(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "rebalance", partitions=4)
    await produce(kafka_settings, topic, [str(i).encode() for i in range(400)])
    options = ConsumerOptions(group_id=group(), max_records=50)
    handled: list[bytes] = []

    async def slow(batch: Batch[bytes]) -> None:
        handled.extend(batch.values)
        await asyncio.sleep(0.2)  # a rebalance arrives while a batch is in progress

    first = BusConsumer(kafka_settings, [topic], RawCodec(), options=options)
    second = BusConsumer(kafka_settings, [topic], RawCodec(), options=options)
    await first.start()
    try:
        for _ in range(3):
            await first.poll(slow)
        await second.start()
        try:
            for _ in range(60):
                await asyncio.gather(first.poll(slow), second.poll(slow))
                if len(handled) >= 400:
                    break
        finally:
            await second.stop()
    finally:
        await first.stop()
    assert sorted(handled, key=int) == [str(i).encode() for i in range(400)]


async def test_batches_carry_lean_records_and_plain_consumers_are_untouched(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "lean", partitions=2)
    await produce(kafka_settings, topic, [b"v"])
    seen: list[Batch[bytes]] = []

    async def keep(batch: Batch[bytes]) -> None:
        seen.append(batch)

    async with BusConsumer(kafka_settings, [topic], RawCodec()) as reader:
        for _ in range(10):
            await reader.poll(keep)
    (batch,) = seen
    record = batch.records[0]
    assert not isinstance(record, ConsumerRecord)  # the lean path is in effect
    assert (record.offset, record.key, record.value) == (0, b"binance:ETHUSDT", b"v")
    assert batch.partitions[0].topic == topic

    plain = AIOKafkaConsumer(
        topic, bootstrap_servers=kafka_settings.kafka.bootstrap, auto_offset_reset="earliest"
    )
    await plain.start()
    try:
        fetched = await plain.getmany(timeout_ms=5000)
    finally:
        await plain.stop()
    (records,) = fetched.values()
    assert isinstance(records[0], ConsumerRecord)


async def test_deferred_commit_commits_what_the_owner_commits_dead_letters_included(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "deferred")
    await ensure_topics(kafka_settings, [TopicSpec(dlq_topic("deferred"))])
    tp = TopicPartition(topic, 0)
    options = ConsumerOptions(group_id=group(), commit_after_handler=False)
    batches: list[Batch[Trade]] = []

    async def keep(batch: Batch[Trade]) -> None:
        batches.append(batch)

    async def poll_until_a_batch(consumer: BusConsumer[Trade]) -> Batch[Trade]:
        batches.clear()
        for _ in range(50):
            await consumer.poll(keep)
            if batches:
                break
        (batch,) = batches
        return batch

    await produce(kafka_settings, topic, [b"garbage"])
    async with BusProducer(kafka_settings) as producer:
        dlq = DeadLetterQueue(producer)
        async with BusConsumer(
            kafka_settings, [topic], Codec(Trade), options=options, dlq=dlq
        ) as consumer:
            dead = await poll_until_a_batch(consumer)  # nothing valid, offsets all the same
            assert (dead.values, dead.offsets) == ([], {tp: 1})
            assert await consumer.committed([tp]) == {tp: 0}  # poll committed nothing
            assert await consumer.commit(dead.offsets) == {tp: 1}
            await produce(kafka_settings, topic, [encode(trade(1)), encode(trade(2))])
            held = await poll_until_a_batch(consumer)
            assert [t.trade_id for t in held.values] == [1, 2]
            assert held.offsets == {tp: 3}
        assert dlq.count == 1

    async with BusConsumer(kafka_settings, [topic], Codec(Trade), options=options) as consumer:
        again = await poll_until_a_batch(consumer)  # never committed: delivered again
        assert [t.trade_id for t in again.values] == [1, 2]
        assert await consumer.commit(again.offsets) == {tp: 3}
        assert await consumer.committed([tp]) == {tp: 3}


async def test_deferred_commit_leaves_partitions_revoked_since_the_batch_to_their_owner(
    kafka_settings: Settings,
) -> None:
    topic = await make_topic(kafka_settings, "deferred-rebalance", partitions=2)
    plain = AIOKafkaProducer(bootstrap_servers=kafka_settings.kafka.bootstrap)
    await plain.start()
    try:
        for p in range(2):
            for i in range(5):
                await plain.send_and_wait(topic, f"{p}-{i}".encode(), partition=p)
    finally:
        await plain.stop()
    group_id = group()
    deferred = ConsumerOptions(group_id=group_id, commit_after_handler=False)
    held: list[Batch[bytes]] = []

    async def keep(batch: Batch[bytes]) -> None:
        held.append(batch)

    first = BusConsumer(kafka_settings, [topic], RawCodec(), options=deferred)
    await first.start()
    try:
        for _ in range(50):
            await first.poll(keep)
            if {tp for batch in held for tp in batch.offsets} == {
                TopicPartition(topic, 0),
                TopicPartition(topic, 1),
            }:
                break
        offsets = {tp: end for batch in held for tp, end in batch.offsets.items()}
        assert len(offsets) == 2  # read both partitions, committed nothing
        options = ConsumerOptions(group_id=group_id)
        async with BusConsumer(kafka_settings, [topic], RawCodec(), options=options) as second:
            taken: list[bytes] = []

            async def take(batch: Batch[bytes]) -> None:
                taken.extend(batch.values)

            for _ in range(100):  # the group rebalances; the second member gets a partition
                await asyncio.gather(first.poll(keep), second.poll(take))
                if taken:
                    break
            assert taken, "the second member never got a partition"
            committed = await first.commit(offsets)
            assert len(committed) == 1  # only the partition the first member still owns
            (revoked,) = set(offsets) - set(committed)
            # The new owner re-read the revoked partition from the start, and committed it.
            assert await second.committed([revoked]) == {revoked: offsets[revoked]}
    finally:
        await first.stop()

"""A load that dies part way resumes where the topic says it stopped: every record once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from streamforge.bus import BusProducer, ensure_topics, workflow_data_topic
from streamforge.config import Settings
from streamforge.orchestration.client import ControlClient
from streamforge.schemas import Candle, Command, EventName, encode
from streamforge.services.host import EXIT_FINISHED, EXIT_INTERRUPTED
from streamforge.services.loader_history.checkpoint import CHECKPOINTS, Checkpoint, CheckpointStore
from streamforge.services.loader_history.plan import Kind
from streamforge.services.loader_history.written import Record, Written, mark_of
from streamforge.simulator import SimulatorThread
from tests.services.loader_history.helpers import (
    INTERVAL,
    SYMBOL,
    Reference,
    assert_loaded_exactly,
    children,
    epoch_ms,
    events_until_terminal,
    job,
    read_topic,
    run_job,
    still_running,
)

pytestmark = pytest.mark.kafka

KEY = f"binance:{SYMBOL}".encode()


def kind(record: Record) -> Kind:
    return Kind.KLINES if isinstance(record, Candle) else Kind.TRADES


async def write_earlier_run(
    settings: Settings, queue_id: str, records: list[Record], checkpointed: int
) -> None:
    """Leave what a killed run leaves: ``records`` in the topic, the first ``checkpointed`` of
    them under a checkpoint (none if 0)."""
    spec = workflow_data_topic(queue_id)
    await ensure_topics(settings, [spec, CHECKPOINTS])
    topic = settings.topic(spec.name)
    async with BusProducer(settings) as producer:
        await producer.publish_many(topic, [(KEY, encode(r)) for r in records[:checkpointed]])
        await producer.flush()
        if checkpointed:
            written = Written()
            for record in records[:checkpointed]:
                written.add(kind(record), mark_of(record), 1)
            (tp,) = producer.produced_offsets
            checkpoint = Checkpoint(
                job=job().job_id(queue_id),
                partition=tp.partition,
                offset=producer.produced_offsets[tp],
                written=written,
            )
            await CheckpointStore(settings, producer).save(checkpoint)
        await producer.publish_many(topic, [(KEY, encode(r)) for r in records[checkpointed:]])


@pytest.mark.parametrize("checkpointed", [False, True], ids=["no-checkpoint", "checkpoint"])
async def test_records_written_after_the_last_checkpoint_are_not_written_again(
    settings: Settings, expected: Reference, checkpointed: bool
) -> None:
    assert await run_job(settings, "q-whole", job()) == EXIT_FINISHED
    whole = (await read_topic(settings, "q-whole")).records
    # The earlier run got into 2024-12-31's trades by its last checkpoint, and into
    # 2025-01-01's klines by the time it died.
    mid_trades = next(
        i
        for i, r in enumerate(whole)
        if getattr(r, "trade_time", 0) >= epoch_ms("2024-12-31T12:00")
    )
    mid_klines = 10 + next(
        i for i, r in enumerate(whole) if getattr(r, "open_time", 0) >= epoch_ms("2025-01-01T00:00")
    )
    await write_earlier_run(
        settings, "q-again", whole[:mid_klines], mid_trades if checkpointed else 0
    )

    assert await run_job(settings, "q-again", job()) == EXIT_FINISHED
    assert_loaded_exactly(await read_topic(settings, "q-again"), expected)
    finished = (await events_until_terminal(settings, "q-again"))[-1]
    assert finished.payload["records_written"] == len(whole)


async def test_a_job_killed_mid_run_and_started_again_loads_every_record_once(
    settings: Settings, sim: SimulatorThread, expected: Reference, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "STREAMFORGE_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "STREAMFORGE_TOPIC_PREFIX": settings.topic_prefix,
        "STREAMFORGE_DATA_DIR": str(tmp_path),
        "STREAMFORGE_BINANCE_REST_URL": sim.rest_url,
        "STREAMFORGE_BINANCE_DATA_URL": sim.data_url,
    }
    command = [
        *(sys.executable, "-m", "streamforge", "run", "loader-history", "--queue-id", "q-kill"),
        *("--symbol", SYMBOL, "--interval", INTERVAL, "--loading-interval", "0.2"),
        *("--from", "2024-12-30T12:00", "--to", "2025-01-02T06:00Z"),
    ]
    total = len(expected.klines) + len(expected.trades)

    log = tmp_path / "job.log"
    sim.set_faults(latency_ms=200)  # slow enough to be caught part way
    try:
        async with ControlClient(settings, from_beginning=True) as client:
            with log.open("w") as stderr:
                process = subprocess.Popen(command, env=env, stderr=stderr)
            try:
                # Killed once a bulk day is in: while it decodes with worker processes.
                while not any(
                    event.payload.get("records_written", 0) >= 4_000
                    for event in await client.next_events()
                    if event.queue_id == "q-kill"
                ):
                    assert process.poll() is None, f"the job ended early: {log.read_text()}"
            finally:
                started = children(process.pid)
                process.send_signal(signal.SIGKILL)
                await asyncio.to_thread(process.wait, 30)
    finally:
        sim.set_faults(latency_ms=0)
    partial = len((await read_topic(settings, "q-kill")).records)
    assert 4_000 <= partial < total
    assert started, "bulk files are decoded by worker processes"
    assert await still_running(started) == [], "nothing outlives the job"

    again = await asyncio.to_thread(subprocess.run, command, env=env, timeout=240)
    assert again.returncode == EXIT_FINISHED
    content = await read_topic(settings, "q-kill")
    assert_loaded_exactly(content, expected)
    finished = (await events_until_terminal(settings, "q-kill"))[-1]
    assert finished.event is EventName.FINISHED
    assert finished.payload["records_written"] == total
    assert finished.payload["end_offsets"]["partitions"] == {
        str(p): end for p, end in content.end_offsets.items() if end
    }


async def test_a_stopped_job_checkpoints_what_it_wrote_and_a_restart_completes_it(
    settings: Settings, sim: SimulatorThread, expected: Reference
) -> None:
    sim.set_faults(latency_ms=100)
    try:
        running = asyncio.create_task(run_job(settings, "q-stop", job(bulk=False)))
        async with ControlClient(settings, from_beginning=True) as client:
            async for event in client.events("q-stop"):
                if event.payload.get("records_written", 0) >= 1_000:
                    break
            await client.send(Command.new("stop", "q-stop"))
        assert await asyncio.wait_for(running, 60) == EXIT_INTERRUPTED
    finally:
        sim.set_faults(latency_ms=0)
    in_topic = len((await read_topic(settings, "q-stop")).records)
    async with BusProducer(settings) as producer:
        checkpoint = await CheckpointStore(settings, producer).load(job().job_id("q-stop"))
    assert checkpoint is not None
    assert checkpoint.written.total == in_topic < len(expected.trades)

    assert await run_job(settings, "q-stop", job()) == EXIT_FINISHED
    assert_loaded_exactly(await read_topic(settings, "q-stop"), expected)

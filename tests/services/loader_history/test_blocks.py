"""Bulk CSV blocks decoded by worker processes: the same chunks, in order, and no orphans."""

from __future__ import annotations

import asyncio
import io
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from streamforge.bus.batches import BatchEncoder
from streamforge.exchanges.binance.bulk import BLOCK_BYTES
from streamforge.schemas import Codec, Trade
from streamforge.services.loader_history.blocks import BlockDecoder, CsvFile
from streamforge.services.loader_history.chunk import ChunkEncoder
from streamforge.services.loader_history.plan import Kind
from streamforge.services.loader_history.written import Mark
from tests.bus.batches import batch_records
from tests.services.loader_history.helpers import children, still_running

ROOT = Path(__file__).resolve().parents[3]
MS = 1_735_689_600_000
FILE = CsvFile(Kind.TRADES, "BTCUSDT", "1m", MS, "day.csv")
TRADE: Codec[Trade] = Codec(Trade)
KEY = b"binance:BTCUSDT"
ENCODER = ChunkEncoder(KEY, BatchEncoder("zstd", 1 << 20))


def csv(count: int) -> bytes:
    """``count`` aggregate trades, one a millisecond, ids from 1."""
    return "".join(
        f"{i},94000.{i % 100:02d},0.0012,{2 * i},{2 * i + 1},{(MS + i) * 1000},True,True\n"
        for i in range(1, count + 1)
    ).encode()


async def decode(
    workers: int, data: bytes, after: Mark | None
) -> list[tuple[list[tuple[bytes | None, bytes]], int, Mark]]:
    """Each chunk's records (key, value), count and last mark."""
    async with BlockDecoder(workers, ENCODER) as decoder:
        return [
            ([r for batch in chunk.batches for r in batch_records(batch)], chunk.count, chunk.last)
            async for chunk in decoder.chunks(FILE, io.BytesIO(data), after)
        ]


@pytest.mark.parametrize("after", [None, Mark(25_000, MS + 25_000)], ids=["all", "after-mark"])
async def test_workers_give_the_chunks_of_in_process_decoding_in_order(after: Mark | None) -> None:
    data = csv(40_000)  # about three blocks
    assert len(data) > 2 * BLOCK_BYTES
    in_process = await decode(0, data, after)
    assert await decode(2, data, after) == in_process
    records = [record for chunk, count, _ in in_process for record in chunk]
    assert sum(count for _, count, _ in in_process) == len(records)
    assert {key for key, _ in records} == {KEY}
    ids = [TRADE.decode(value).trade_id for _, value in records]
    first = 1 if after is None else after.position + 1
    assert ids == list(range(first, 40_001))
    assert in_process[-1][2] == Mark(40_000, MS + 40_000)


async def test_workers_end_with_a_process_killed_by_sigkill() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.services.loader_history.decode_until_killed"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert await asyncio.to_thread(process.stdout.readline) == "decoded\n"
    started = children(process.pid)
    assert started, "a worker process was started"
    process.send_signal(signal.SIGKILL)
    await asyncio.to_thread(process.wait, 30)
    process.stdout.close()
    assert await still_running(started) == []

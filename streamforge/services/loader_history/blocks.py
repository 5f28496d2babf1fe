"""Bulk CSV blocks decoded, validated and encoded side by side, in order.

A row costs several microseconds of Python on its way through the row type, the contract and
the encoder, and a day of a busy symbol holds millions of rows. Worker processes decode blocks
side by side while this process reads the file and publishes. Where the compiled extension
frames trade blocks (:func:`~streamforge.exchanges.binance.bulk.native_framing`), a row costs
well under a microsecond and the extension releases the GIL, so trade blocks go to threads of
this process instead: handing a block to another process would cost more than decoding it. At
most two blocks per worker are in flight, so memory stays bounded. Without workers, blocks are
decoded in this process, one at a time.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import threading
import time
from collections import deque
from collections.abc import AsyncGenerator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO

from streamforge.exchanges.binance.bulk import (
    blocks,
    decode_klines_block,
    encode_agg_trades_block,
    frame_agg_trades_block,
    native_framing,
)
from streamforge.lifecycle import AsyncLifecycle
from streamforge.services.loader_history.chunk import Chunk, ChunkEncoder
from streamforge.services.loader_history.plan import Kind
from streamforge.services.loader_history.written import Mark


def default_workers() -> int:
    """One worker per CPU this process may use, at most four: what is left to this process
    (reading the file, sending the workers' record batches) is light."""
    affinity = getattr(os, "sched_getaffinity", None)  # not on every platform
    cpus = len(affinity(0)) if affinity else os.cpu_count() or 1
    return min(4, cpus)


@dataclass(frozen=True)
class CsvFile:
    """What a worker needs to know of the file a block comes from."""

    kind: Kind
    symbol: str
    interval: str
    receive_time: int
    name: str


def decode_block(
    file: CsvFile, block: bytes, first_line: int, after: Mark | None, encoder: ChunkEncoder
) -> Chunk | None:
    """The records of a block of ``file`` positioned after ``after``, as a chunk."""
    if file.kind is Kind.KLINES:
        candles = decode_klines_block(
            block, file.symbol, file.interval, file.receive_time, file.name, first_line
        )
        return encoder.records(candles, after)
    after_id = -1 if after is None else after.position
    framed = frame_agg_trades_block(
        block,
        file.symbol,
        file.receive_time,
        encoder.key,
        int(time.time() * 1000),
        encoder.batches.max_batch_bytes,
        after_id,
    )
    if framed is not None:
        return encoder.framed(framed)
    trades = encode_agg_trades_block(
        block, file.symbol, file.receive_time, file.name, first_line, after_id
    )
    if trades is None:
        return None
    return encoder.values(trades.values, Mark(trades.last_id, trades.last_time))


def _exit_with_parent() -> None:
    """Make a worker end when the process that started it dies, even by SIGKILL (it would
    otherwise wait for work forever)."""
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_exit_on, args=(parent.sentinel,), daemon=True).start()


def _exit_on(sentinel: int) -> None:
    multiprocessing.connection.wait([sentinel])
    os._exit(1)


class BlockDecoder(AsyncLifecycle):
    """Decodes the blocks of bulk CSVs, ``workers`` at a time (0: one by one in this process)."""

    def __init__(self, workers: int, encoder: ChunkEncoder) -> None:
        self.workers = workers
        self.encoder = encoder
        self._pool: ProcessPoolExecutor | None = None
        self._threads: ThreadPoolExecutor | None = None

    async def start(self) -> None:
        """Set up the workers (processes start with the first block given to them)."""
        if self.workers and self._pool is None:
            # Spawned, not forked: this process runs an event loop and may have threads.
            context = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=context, initializer=_exit_with_parent
            )
            self._threads = ThreadPoolExecutor(self.workers, thread_name_prefix="csv-blocks")

    async def stop(self) -> None:
        """Stop the workers, dropping blocks not started."""
        pool, self._pool = self._pool, None
        threads, self._threads = self._threads, None
        for executor in (pool, threads):
            if executor is not None:
                await asyncio.to_thread(executor.shutdown, wait=True, cancel_futures=True)

    async def chunks(
        self, file: CsvFile, stream: IO[bytes], after: Mark | None
    ) -> AsyncGenerator[Chunk, None]:
        """The records of the CSV ``stream`` after ``after``, a chunk per block, in order."""
        native = file.kind is Kind.TRADES and native_framing()
        executor: Executor | None = self._threads if native else self._pool
        if executor is None:
            line = 1
            for block in blocks(stream):
                chunk = decode_block(file, block, line, after, self.encoder)
                line += block.count(b"\n")
                if chunk is not None:
                    yield chunk
            return
        loop = asyncio.get_running_loop()
        window: deque[asyncio.Future[Chunk | None]] = deque()
        line = 1
        try:
            for block in blocks(stream):
                window.append(
                    loop.run_in_executor(
                        executor, decode_block, file, block, line, after, self.encoder
                    )
                )
                line += block.count(b"\n")
                while len(window) >= 2 * self.workers or (window and window[0].done()):
                    if (chunk := await window.popleft()) is not None:
                        yield chunk
            while window:
                if (chunk := await window.popleft()) is not None:
                    yield chunk
        finally:
            for future in window:
                future.cancel()

"""The store, owned by one worker thread so that writes overlap reading from Kafka."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from streamforge.lifecycle import AsyncLifecycle
from streamforge.schemas import Candle, Trade
from streamforge.storage import Store

R = TypeVar("R")


class StoreWriter(AsyncLifecycle):
    """Opens, writes and closes a store in one dedicated thread, one call at a time.

    ``open_store`` is called in that thread (an embedded database may tie its connection to the
    thread that opened it).
    """

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open = open_store
        self._executor: ThreadPoolExecutor | None = None
        self._store: Store | None = None

    async def start(self) -> None:
        """Start the thread and open the store in it."""
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        try:
            self._store = await self._call(self._open)
        except BaseException:
            self._executor.shutdown(wait=False)
            self._executor = None
            raise

    async def stop(self) -> None:
        """Close the store after any write still running, then end the thread."""
        executor, store = self._executor, self._store
        self._executor = self._store = None
        if executor is None:
            return
        try:
            if store is not None:
                await asyncio.get_running_loop().run_in_executor(executor, store.close)
        finally:
            executor.shutdown(wait=False)

    async def upsert(self, records: Sequence[Trade | Candle]) -> float:
        """Write ``records`` in one transaction; the seconds it took."""
        if self._store is None:
            raise RuntimeError("the store writer is not started")
        return await self._call(_timed, self._store.upsert, records)

    async def _call(self, func: Callable[..., R], *args: object) -> R:
        if self._executor is None:
            raise RuntimeError("the store writer is not started")
        return await asyncio.get_running_loop().run_in_executor(self._executor, func, *args)


def _timed(
    upsert: Callable[[Sequence[Trade | Candle]], int], records: Sequence[Trade | Candle]
) -> float:
    start = time.perf_counter()
    upsert(records)
    return time.perf_counter() - start

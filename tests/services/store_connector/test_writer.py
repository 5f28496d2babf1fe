"""The store writer process: it writes batches in order, in a process of its own, reports the
store's errors, fails loudly when it dies, and finishes what it was given before it stops."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from functools import partial
from pathlib import Path

import pytest
from msgspec.structs import replace

from streamforge.services.store_connector.writer import StoreWriter
from streamforge.storage import RecordKind, StoreError, open_store
from streamforge.storage.sqlite import SqliteStore
from streamforge.storage.tables import Rows
from tests.services.store_connector.helpers import candle, trade


class FailingStore(SqliteStore):
    """A real SQLite store whose writes fail."""

    def upsert_rows(self, rows: Rows) -> int:
        raise StoreError("disk full (injected)")


class DyingStore(SqliteStore):
    """A real SQLite store whose process dies when it is asked to write."""

    def upsert_rows(self, rows: Rows) -> int:
        os._exit(3)


def sqlite(path: Path) -> str:
    return f"sqlite:///{path}"


async def test_batches_are_written_by_another_process_in_the_order_given(tmp_path: Path) -> None:
    url = sqlite(tmp_path / "store.db")
    batches = [([trade(i) for i in range(k * 100, (k + 1) * 100)], []) for k in range(4)]
    batches.append(([replace(trade(7), price="1.00000000")], [candle(0)]))  # overwrites trade 7

    async with StoreWriter(partial(open_store, url)) as writer:
        assert writer.pid not in (None, os.getpid())
        seconds = await asyncio.gather(*(writer.submit(*batch) for batch in batches))

    assert all(s >= 0 for s in seconds)
    with open_store(url) as store:
        assert store.count(RecordKind.TRADES, "BTCUSDT") == 400
        assert store.count(RecordKind.CANDLES, "BTCUSDT", interval="1m") == 1
        prices = store.trades("BTCUSDT", exact=True)["price"].tolist()
    assert prices[7] == "1.00000000"
    assert prices[6] == trade(6).price


async def test_stop_finishes_the_writes_handed_over(tmp_path: Path) -> None:
    url = sqlite(tmp_path / "store.db")
    writer = StoreWriter(partial(open_store, url))
    await writer.start()
    for k in range(5):
        writer.submit([trade(i) for i in range(k * 1_000, (k + 1) * 1_000)])

    await writer.stop()

    assert writer.pid is None
    with open_store(url) as store:
        assert store.count(RecordKind.TRADES, "BTCUSDT") == 5_000


async def test_a_store_that_cannot_open_fails_the_start_with_its_error(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("not a directory")
    writer = StoreWriter(partial(open_store, sqlite(tmp_path / "a-file" / "store.db")))

    with pytest.raises(StoreError, match="cannot open"):
        await writer.start()
    assert writer.pid is None


async def test_a_failed_write_raises_the_stores_error(tmp_path: Path) -> None:
    async with StoreWriter(partial(FailingStore, tmp_path / "store.db")) as writer:
        with pytest.raises(StoreError, match="injected"):
            await writer.submit([trade(1)])


async def test_a_writer_that_dies_fails_every_write_waiting(tmp_path: Path) -> None:
    async with StoreWriter(partial(DyingStore, tmp_path / "store.db")) as writer:
        first = writer.submit([trade(1)])
        second = writer.submit([trade(2)])

        with pytest.raises(StoreError, match=r"exited \(exit code 3\)"):
            await first
        with pytest.raises(StoreError, match="exited"):
            await second


async def test_ctrl_c_leaves_the_writer_to_the_sink(tmp_path: Path) -> None:
    # A terminal's Ctrl-C reaches the whole process group; the sink stops the writer itself,
    # after its last write.
    url = sqlite(tmp_path / "store.db")
    async with StoreWriter(partial(open_store, url)) as writer:
        assert writer.pid is not None
        os.kill(writer.pid, signal.SIGINT)
        os.kill(writer.pid, signal.SIGTERM)

        await writer.submit([trade(1)])

    with open_store(url) as store:
        assert store.count(RecordKind.TRADES, "BTCUSDT") == 1


async def test_open_store_must_pickle(tmp_path: Path) -> None:
    url = sqlite(tmp_path / "store.db")
    writer = StoreWriter(lambda: open_store(url))

    with pytest.raises(TypeError, match="open_store must pickle"):
        await writer.start()


async def test_nothing_to_write_is_refused(tmp_path: Path) -> None:
    async with StoreWriter(partial(open_store, sqlite(tmp_path / "store.db"))) as writer:
        with pytest.raises(ValueError, match="nothing to write"):
            writer.submit([])


def gone(pid: int) -> bool:
    """Whether process ``pid`` has exited (a zombie that nobody reaped counts as exited)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return True
    return state in ("Z", "X")


OWNER = """
import asyncio, sys
from functools import partial
from streamforge.services.store_connector.writer import StoreWriter
from streamforge.storage import open_store

async def main() -> None:
    writer = StoreWriter(partial(open_store, sys.argv[1]))
    await writer.start()
    print(writer.pid, flush=True)
    await asyncio.sleep(120)

asyncio.run(main())
"""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
async def test_a_writer_whose_sink_is_killed_exits_too(tmp_path: Path) -> None:
    owner = await asyncio.create_subprocess_exec(
        sys.executable, "-c", OWNER, sqlite(tmp_path / "store.db"), stdout=subprocess.PIPE
    )
    assert owner.stdout is not None
    pid = int(await asyncio.wait_for(owner.stdout.readline(), 60))
    assert not gone(pid)

    owner.kill()
    await owner.wait()

    for _ in range(200):
        if gone(pid):
            break
        await asyncio.sleep(0.05)
    assert gone(pid), "the writer outlived its sink"

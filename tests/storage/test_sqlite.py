"""What only the SQLite store promises: URL forms, WAL readers in other processes, migrations."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from streamforge.config.secrets import secret_url
from streamforge.storage import RecordKind, Store, StoreError, open_store
from streamforge.storage.migrations import MIGRATIONS, migrate, version
from streamforge.storage.sqlite import SqliteStore, sqlite_path
from streamforge.storage.tables import CANDLES, TRADES
from tests.storage.records import T0, candle, trade

BATCH = 500

# Counts BTCUSDT trades over and over until it sees `target`, printing every count it saw.
READER = """
import json, sys, time
from streamforge.storage import RecordKind, open_store

url, target = sys.argv[1], int(sys.argv[2])
seen = []
deadline = time.monotonic() + 60
with open_store(url) as store:
    print("ready", flush=True)
    while time.monotonic() < deadline:
        seen.append(store.count(RecordKind.TRADES, "BTCUSDT"))
        if seen[-1] == target:
            break
print(json.dumps(seen))
"""


def test_urls_follow_sqlalchemy() -> None:
    assert sqlite_path("sqlite:///data/sf.db") == Path("data/sf.db")
    assert sqlite_path("sqlite:////var/lib/sf.db") == Path("/var/lib/sf.db")


@pytest.mark.parametrize(
    "url", ["sqlite://", "sqlite:///", "sqlite://host/sf.db", "sqlite:///sf.db?mode=ro"]
)
def test_malformed_urls_are_refused(url: str) -> None:
    with pytest.raises(StoreError, match="sqlite:///relative/path or sqlite:////absolute/path"):
        open_store(url)


def test_a_relative_url_is_under_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    with open_store("sqlite:///nested/dir/sf.db") as store:
        store.upsert([trade(1)])

    assert (tmp_path / "nested/dir/sf.db").is_file()


def test_opens_from_a_secret_and_shows_the_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sf.db'}"

    with open_store(secret_url(url)) as store:
        assert store.url == url
        assert repr(store) == f"SqliteStore({url!r})"


def test_a_new_database_is_in_wal_mode_at_the_latest_version(tmp_path: Path) -> None:
    path = tmp_path / "sf.db"
    open_store(f"sqlite:///{path}").close()

    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert version(conn) == len(MIGRATIONS)
    finally:
        conn.close()


def test_time_range_queries_of_trades_use_the_time_index(tmp_path: Path) -> None:
    with SqliteStore(tmp_path / "sf.db") as store:
        store.upsert([trade(i) for i in range(10)])
        issued: list[str] = []
        store._conn.set_trace_callback(issued.append)
        assert len(store.trades("BTCUSDT", start=T0 + 2, end=T0 + 5)) == 3
        assert store.count(RecordKind.TRADES, "BTCUSDT", start=T0 + 2) == 8
        store._conn.set_trace_callback(None)

        for sql in issued:
            plan = store._conn.execute(f"EXPLAIN QUERY PLAN {sql}").fetchall()
            assert "INDEX trades_by_time" in str(plan), (sql, plan)


# Version 1 keyed market rows by their exchange and symbol text.
V1_TRADE = "INSERT INTO trades VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
V1_CANDLE = "INSERT INTO candles VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"


def test_a_version_1_database_is_migrated_with_its_market_data(tmp_path: Path) -> None:
    path = tmp_path / "sf.db"
    trades = [trade(i, symbol=symbol) for symbol in ("BTCUSDT", "ETHUSDT") for i in range(5)]
    candles = [candle(i, exchange="other_x") for i in range(3)]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, "test", MIGRATIONS[:1])
        conn.executemany(V1_TRADE, map(TRADES.row, trades))
        conn.executemany(V1_CANDLE, map(CANDLES.row, candles))
        conn.execute("INSERT INTO workflows VALUES ('q1', '{\"queue_id\": \"q1\"}')")
    finally:
        conn.close()

    with open_store(f"sqlite:///{path}") as store:
        eth = store.trades("ETHUSDT", start=T0 + 1, end=T0 + 4)
        assert list(eth.trade_id) == [1, 2, 3]
        assert set(eth.symbol) == {"ETHUSDT"}
        assert list(store.trades("BTCUSDT", exact=True).price) == [trades[0].price] * 5
        assert len(store.candles("BTCUSDT", "1m", exchange="other_x")) == 3
        assert store.count(RecordKind.CANDLES, "BTCUSDT") == 0  # binance has none
        assert store.workflow("q1") == {"queue_id": "q1"}
        # The migrated keys are the natural ids: re-delivery overwrites.
        store.upsert([trade(2, symbol="ETHUSDT", qty="5.0"), candle(0, exchange="other_x")])
        assert store.count(RecordKind.TRADES, "ETHUSDT") == 5
        assert store.count(RecordKind.CANDLES, "BTCUSDT", exchange="other_x") == 3
        assert store.trades("ETHUSDT", start=T0 + 2, end=T0 + 3, exact=True).qty[0] == "5.0"

    conn = sqlite3.connect(path)
    try:
        assert version(conn) == len(MIGRATIONS)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert not {"trades_v1", "candles_v1"} & tables
    finally:
        conn.close()


def test_a_series_added_by_a_failed_upsert_is_not_remembered(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sf.db'}"
    with open_store(url) as store, open_store(url) as other:
        with pytest.raises(OverflowError):  # SQLite integers have 64 bits
            store.upsert([trade(2**63, symbol="NEWUSDT")])
        other.upsert([trade(1, symbol="ETHUSDT")])  # takes the id NEWUSDT had, rolled back
        store.upsert([trade(2, symbol="NEWUSDT")])

        assert list(store.trades("NEWUSDT").trade_id) == [2]
        assert list(store.trades("ETHUSDT").trade_id) == [1]


def test_a_database_of_a_newer_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sf.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    conn.close()

    with pytest.raises(StoreError, match=r"schema version \d+ is newer .* upgrade StreamForge"):
        open_store(f"sqlite:///{path}")


def test_a_later_migration_runs_once_and_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "sf.db"
    with open_store(f"sqlite:///{path}") as store:
        store.upsert([trade(1)])
    added = (*MIGRATIONS, ("ALTER TABLE trades ADD COLUMN note TEXT",))

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        migrate(conn, "test", added)
        migrate(conn, "test", added)  # already there: nothing to do

        assert version(conn) == len(added)
        assert conn.execute("SELECT trade_id, note FROM trades").fetchall() == [(1, None)]
    finally:
        conn.close()


def test_a_failing_migration_leaves_the_previous_version(tmp_path: Path) -> None:
    path = tmp_path / "sf.db"
    open_store(f"sqlite:///{path}").close()
    broken = (*MIGRATIONS, ("CREATE TABLE extra (x)", "THIS IS NOT SQL"))

    conn = sqlite3.connect(path, isolation_level=None)
    try:
        with pytest.raises(sqlite3.OperationalError):
            migrate(conn, "test", broken)

        assert version(conn) == len(MIGRATIONS)
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
        assert "extra" not in tables
    finally:
        conn.close()


def test_a_file_that_is_not_a_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "sf.db"
    path.write_bytes(b"not a database, just some bytes" * 100)

    with pytest.raises(StoreError, match="cannot open"):
        open_store(f"sqlite:///{path}")


def test_a_reader_process_counts_while_this_one_writes(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sf.db'}"
    batches = 40
    with open_store(url) as store:
        store.upsert([trade(i) for i in range(BATCH)])
        reader = subprocess.Popen(
            [sys.executable, "-c", READER, url, str(batches * BATCH)],
            stdout=subprocess.PIPE,
            text=True,
        )
        assert reader.stdout is not None
        assert reader.stdout.readline().strip() == "ready"
        for n in range(1, batches):
            store.upsert([trade(i) for i in range(n * BATCH, (n + 1) * BATCH)])
        out, _ = reader.communicate(timeout=90)

    assert reader.returncode == 0
    seen = json.loads(out)
    assert seen[-1] == batches * BATCH
    assert seen == sorted(seen)
    # Each upsert is one transaction: a reader sees whole batches only.
    assert all(count % BATCH == 0 for count in seen)


def test_two_stores_on_one_file_take_turns_writing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sf.db'}"

    def write(store: Store, offset: int) -> None:
        for n in range(20):
            base = offset + n * 100
            store.upsert([trade(i) for i in range(base, base + 100)])
            store.put_workflow({"queue_id": f"q{offset}", "n": n})

    with open_store(url) as first, open_store(url) as second:
        with ThreadPoolExecutor(2) as pool:
            writes = [pool.submit(write, first, 0), pool.submit(write, second, 1_000_000)]
        for done in writes:
            done.result()

        assert first.count(RecordKind.TRADES, "BTCUSDT") == 4_000
        assert second.workflow("q1000000") == {"queue_id": "q1000000", "n": 19}

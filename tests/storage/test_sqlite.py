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
from streamforge.storage.sqlite import sqlite_path
from tests.storage.records import trade

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
        plan = conn.execute(
            "EXPLAIN QUERY PLAN SELECT count(*) FROM trades "
            "WHERE exchange = 'binance' AND symbol = 'X' AND trade_time >= 1 AND trade_time < 2"
        ).fetchall()
        assert "trades_by_time" in str(plan)
    finally:
        conn.close()


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

"""Versioned schema of the SQLite store, tracked in ``PRAGMA user_version``.

Step ``i`` of :data:`MIGRATIONS` takes a database from version ``i`` to ``i + 1``; steps are
never edited once released, only appended. Each runs in its own transaction, so a failed step
leaves the database at the version before it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence

from streamforge.storage.base import StoreError

Migration = Sequence[str]

# Prices and quantities are the exchange's exact text; the natural ids are the primary keys.
MIGRATIONS: tuple[Migration, ...] = (
    (
        """CREATE TABLE trades (
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            trade_id INTEGER NOT NULL,
            price TEXT NOT NULL,
            qty TEXT NOT NULL,
            first_trade_id INTEGER NOT NULL,
            last_trade_id INTEGER NOT NULL,
            trade_time INTEGER NOT NULL,
            buyer_is_maker INTEGER NOT NULL,
            event_time INTEGER NOT NULL,
            receive_time INTEGER NOT NULL,
            PRIMARY KEY (exchange, symbol, trade_id)
        ) WITHOUT ROWID""",
        "CREATE INDEX trades_by_time ON trades (exchange, symbol, trade_time)",
        """CREATE TABLE candles (
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            interval TEXT NOT NULL,
            open_time INTEGER NOT NULL,
            close_time INTEGER NOT NULL,
            open TEXT NOT NULL,
            high TEXT NOT NULL,
            low TEXT NOT NULL,
            close TEXT NOT NULL,
            volume TEXT NOT NULL,
            quote_volume TEXT NOT NULL,
            trades INTEGER NOT NULL,
            taker_buy_volume TEXT NOT NULL,
            taker_buy_quote_volume TEXT NOT NULL,
            closed INTEGER NOT NULL,
            event_time INTEGER NOT NULL,
            receive_time INTEGER NOT NULL,
            PRIMARY KEY (exchange, symbol, interval, open_time)
        ) WITHOUT ROWID""",
        "CREATE TABLE workflows (queue_id TEXT PRIMARY KEY, view TEXT NOT NULL) WITHOUT ROWID",
        "CREATE TABLE graphs (name TEXT PRIMARY KEY, metadata TEXT NOT NULL) WITHOUT ROWID",
        # One row per vertex or edge set, its items as one JSON array.
        """CREATE TABLE graph_sets (
            graph TEXT NOT NULL,
            position INTEGER NOT NULL,
            collection TEXT NOT NULL,
            from_collection TEXT,
            to_collection TEXT,
            items TEXT NOT NULL,
            PRIMARY KEY (graph, position)
        ) WITHOUT ROWID""",
        """CREATE TABLE models (
            name TEXT PRIMARY KEY,
            created_at INTEGER NOT NULL,
            record TEXT NOT NULL
        ) WITHOUT ROWID""",
    ),
)


def version(conn: sqlite3.Connection) -> int:
    """The schema version of the database behind ``conn``."""
    value: int = conn.execute("PRAGMA user_version").fetchone()[0]
    return value


def migrate(
    conn: sqlite3.Connection, label: str, migrations: Sequence[Migration] = MIGRATIONS
) -> None:
    """Bring the database up to ``len(migrations)``; refuse one from a newer StreamForge.

    ``conn`` must be in autocommit mode. The version is re-read under the write lock, so two
    processes opening a new database at once apply each step once.
    """
    latest = len(migrations)
    while True:
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = version(conn)
            if current > latest:
                raise StoreError(
                    f"{label}: schema version {current} is newer than this StreamForge "
                    f"supports ({latest}); upgrade StreamForge"
                )
            if current == latest:
                conn.execute("COMMIT")
                return
            for statement in migrations[current]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {current + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise

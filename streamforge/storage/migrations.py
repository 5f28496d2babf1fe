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
    # Version 2: a series (exchange, symbol) is stored once and market rows key on its small
    # integer id, which halves the write cost of a trade (narrower keys in the table and index).
    (
        """CREATE TABLE series (
            id INTEGER PRIMARY KEY,
            exchange TEXT NOT NULL,
            symbol TEXT NOT NULL,
            UNIQUE (exchange, symbol)
        )""",
        """INSERT INTO series (exchange, symbol)
            SELECT exchange, symbol FROM trades UNION SELECT exchange, symbol FROM candles""",
        "DROP INDEX trades_by_time",
        "ALTER TABLE trades RENAME TO trades_v1",
        """CREATE TABLE trades (
            series INTEGER NOT NULL,
            trade_id INTEGER NOT NULL,
            price TEXT NOT NULL,
            qty TEXT NOT NULL,
            first_trade_id INTEGER NOT NULL,
            last_trade_id INTEGER NOT NULL,
            trade_time INTEGER NOT NULL,
            buyer_is_maker INTEGER NOT NULL,
            event_time INTEGER NOT NULL,
            receive_time INTEGER NOT NULL,
            PRIMARY KEY (series, trade_id)
        ) WITHOUT ROWID""",
        """INSERT INTO trades
            SELECT s.id, t.trade_id, t.price, t.qty, t.first_trade_id, t.last_trade_id,
                t.trade_time, t.buyer_is_maker, t.event_time, t.receive_time
            FROM trades_v1 AS t JOIN series AS s USING (exchange, symbol)""",
        "DROP TABLE trades_v1",
        "CREATE INDEX trades_by_time ON trades (series, trade_time)",
        "ALTER TABLE candles RENAME TO candles_v1",
        """CREATE TABLE candles (
            series INTEGER NOT NULL,
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
            PRIMARY KEY (series, interval, open_time)
        ) WITHOUT ROWID""",
        """INSERT INTO candles
            SELECT s.id, c.interval, c.open_time, c.close_time, c.open, c.high, c.low, c.close,
                c.volume, c.quote_volume, c.trades, c.taker_buy_volume,
                c.taker_buy_quote_volume, c.closed, c.event_time, c.receive_time
            FROM candles_v1 AS c JOIN series AS s USING (exchange, symbol)""",
        "DROP TABLE candles_v1",
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

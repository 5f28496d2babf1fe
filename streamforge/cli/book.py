"""``streamforge book``: rebuild and inspect local order books."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click
import msgspec

from streamforge.exchanges.binance.normalize import FrameError
from streamforge.exchanges.binance.replay_book import replay_book
from streamforge.exchanges.replay import ReplayFormatError
from streamforge.schemas import BBO

_TABLE_ROW = "{:<12} {:>12}  {:>18} {:>16} | {:<16} {}"
_TABLE_HEADER = _TABLE_ROW.format("symbol", "update id", "bid qty", "bid", "ask", "ask qty")


@click.group()
def book() -> None:
    """Local order books: rebuild them from recordings and inspect them."""


@book.command()
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--symbol", help="Rebuild only this symbol's book, e.g. BTCUSDT.")
@click.option("--jsonl", is_flag=True, help="Print one JSON object a line instead of a table.")
def replay(file: Path, symbol: str | None, jsonl: bool) -> None:
    """Rebuild Binance books from a replay FILE; print the best bid/ask after each diff batch.

    The depth snapshots recorded in FILE seed the books; each line printed shows a book after
    one batch of diffs: its symbol, final update id, best bid and best ask.
    """
    try:
        for number, bbo in enumerate(replay_book(file, symbol.upper() if symbol else None)):
            if jsonl:
                click.echo(_json_line(bbo))
                continue
            if number == 0:
                click.echo(_TABLE_HEADER)
            click.echo(_table_line(bbo))
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, as other Unix tools do. Point
        # stdout at /dev/null so that the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    except OSError as exc:
        raise click.ClickException(f"cannot read {file}: {exc.strerror or exc}") from None
    except (ReplayFormatError, FrameError) as exc:
        raise click.ClickException(str(exc)) from None


def _json_line(bbo: BBO) -> str:
    row = {
        "symbol": bbo.symbol,
        "u": bbo.update_id,
        "bid": bbo.bid,
        "bid_qty": bbo.bid_qty,
        "ask": bbo.ask,
        "ask_qty": bbo.ask_qty,
    }
    return msgspec.json.encode(row).decode()


def _table_line(bbo: BBO) -> str:
    return _TABLE_ROW.format(bbo.symbol, bbo.update_id, bbo.bid_qty, bbo.bid, bbo.ask, bbo.ask_qty)

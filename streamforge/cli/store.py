"""``streamforge store``: look into the store that ``STREAMFORGE_STORE_URL`` names."""

from __future__ import annotations

import json

import click

from streamforge.cli.common import settings_from
from streamforge.cli.times import time_option_callback
from streamforge.storage import RecordKind, StoreError, open_store


@click.group()
def store() -> None:
    """Query the store (STREAMFORGE_STORE_URL; default: a SQLite file in the data directory)."""


@store.command("count")
@click.option(
    "--kind",
    required=True,
    type=click.Choice([kind.value for kind in RecordKind]),
    help="What to count.",
)
@click.option("--symbol", required=True, help="Symbol, e.g. BTCUSDT.")
@click.option("--interval", default=None, help="Candle interval, e.g. 1m (required for candles).")
@click.option(
    "--from",
    "start",
    default=None,
    callback=time_option_callback,
    help="Start (included): UTC ISO date or date-time, or epoch ms; default: the first record.",
)
@click.option(
    "--to", "end", default=None, callback=time_option_callback, help="End (excluded), as --from."
)
@click.option("--exchange", default="binance", show_default=True, help="Exchange name.")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object, not just the number.")
@click.pass_context
def count(
    ctx: click.Context,
    kind: str,
    symbol: str,
    interval: str | None,
    start: int | None,
    end: int | None,
    exchange: str,
    as_json: bool,
) -> None:
    """Count the stored trades or candles of a symbol over [--from, --to)."""
    record_kind = RecordKind(kind)
    if record_kind is RecordKind.CANDLES and interval is None:
        raise click.UsageError("--interval is required for candles")
    if record_kind is RecordKind.TRADES and interval is not None:
        raise click.UsageError("--interval applies to candles only")
    symbol = symbol.upper()
    url = settings_from(ctx).store_url
    try:
        with open_store(url) as opened:
            n = opened.count(
                record_kind, symbol, interval=interval, start=start, end=end, exchange=exchange
            )
    except StoreError as exc:
        raise click.ClickException(str(exc)) from None
    if as_json:
        fields = {"kind": kind, "symbol": symbol, "interval": interval, "from": start, "to": end}
        click.echo(json.dumps(fields | {"count": n}))
    else:
        click.echo(n)

"""``streamforge run loader-history``: load a symbol's history over ``[--from, --to)``."""

from __future__ import annotations

import click

from streamforge.cli.service_command import service_command
from streamforge.cli.times import time_option_callback
from streamforge.services.base import Service
from streamforge.services.loader_history.plan import Kind
from streamforge.services.loader_history.service import LoaderHistory


def _kinds(ctx: click.Context, param: click.Parameter, value: str) -> frozenset[Kind]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    try:
        return frozenset(Kind(name) for name in names)
    except ValueError:
        choices = ", ".join(kind.value for kind in Kind)
        raise click.BadParameter(f"a comma-separated list of {choices}; got {value!r}") from None


@service_command(
    "loader-history",
    "Load klines and aggregate trades of one symbol over [--from, --to) into wf-<queue_id>-data.",
)
@click.option("--symbol", required=True, help="Binance symbol, e.g. BTCUSDT.")
@click.option("--interval", default="1m", show_default=True, help="Kline interval.")
@click.option(
    "--from",
    "start",
    required=True,
    callback=time_option_callback,
    help="Start (included): UTC ISO date or date-time, or epoch ms.",
)
@click.option(
    "--to",
    "end",
    default=None,
    callback=time_option_callback,
    help="End (excluded), as --from; default: now.",
)
@click.option(
    "--kinds",
    default="klines,trades",
    show_default=True,
    callback=_kinds,
    help="What to load: klines, trades or both.",
)
@click.option("--no-bulk", is_flag=True, help="Load from REST only, never from bulk files.")
@click.option(
    "--parse-workers",
    type=click.IntRange(min=0),
    default=None,
    help=(
        "Blocks of bulk files decoded side by side: by worker processes, or for trades by "
        "threads where the compiled extension is installed; 0: one at a time in this process "
        "(default: one per CPU, at most 4)."
    ),
)
def loader_history(
    symbol: str,
    interval: str,
    start: int,
    end: int | None,
    kinds: frozenset[Kind],
    no_bulk: bool,
    parse_workers: int | None,
) -> Service:
    try:
        return LoaderHistory(
            symbol=symbol.upper(),
            start=start,
            end=end,
            interval=interval,
            kinds=kinds,
            bulk=not no_bulk,
            parse_workers=parse_workers,
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

"""``streamforge run loader-ws``: live market data from the exchange WebSocket into ``md.*``."""

from __future__ import annotations

import click

from streamforge.cli.service_command import service_command
from streamforge.services.base import CommandRejected, Service
from streamforge.services.loader_ws import DEFAULT_KINDS, LoaderOptions, LoaderWsService
from streamforge.services.loader_ws.subscriptions import parse_kinds, parse_symbols


def _items(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


@service_command(
    "loader-ws", "Stream live market data from the exchange WebSocket into the md.* topics."
)
@click.option(
    "--symbols",
    default="",
    help="Comma-separated symbols, e.g. BTCUSDT,ETHUSDT; none: wait for a start command.",
)
@click.option(
    "--streams",
    default=",".join(DEFAULT_KINDS),
    show_default=True,
    help="Comma-separated stream kinds.",
)
@click.option(
    "--book-depth",
    type=click.IntRange(1, 5000),
    default=20,
    show_default=True,
    help="Levels a side in md.book snapshots.",
)
@click.option(
    "--book-interval",
    type=click.FloatRange(min=0, min_open=True),
    default=1.0,
    show_default=True,
    help="Seconds between md.book snapshots of a symbol.",
)
@click.option(
    "--duration",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    help="Stop after this many seconds (Job use); default: run until stopped.",
)
def loader_ws(
    symbols: str, streams: str, book_depth: int, book_interval: float, duration: float | None
) -> Service:
    try:
        chosen = parse_symbols(_items(symbols), "--symbols") if symbols.strip() else ()
        kinds = parse_kinds(_items(streams), "--streams")
    except CommandRejected as exc:
        raise click.BadParameter(exc.reason, param_hint=f"'{exc.field}'") from None
    return LoaderWsService(
        symbols=chosen,
        options=LoaderOptions(kinds=kinds, book_depth=book_depth, book_interval=book_interval),
        duration=duration,
    )

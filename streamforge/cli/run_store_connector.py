"""``streamforge run store-connector``: trades and candles from Kafka into the store."""

from __future__ import annotations

import click

from streamforge.cli.service_command import service_command
from streamforge.services.base import CommandRejected, Service
from streamforge.services.loader_ws.subscriptions import parse_symbols
from streamforge.services.store_connector import Mode, SinkOptions, StoreConnector


def _items(text: str | None) -> list[str]:
    return [item.strip() for item in (text or "").split(",") if item.strip()]


@service_command(
    "store-connector",
    "Write trades and candles from Kafka into the store: live md.* topics until stopped, or "
    "a workflow's wf-<queue_id>-data until the loader's end offsets are committed.",
)
@click.option(
    "--mode",
    type=click.Choice([mode.value for mode in Mode]),
    default=Mode.WORKFLOW.value,
    show_default=True,
    help="live: follow md.* topics until stopped; workflow: a Job over wf-<queue_id>-data.",
)
@click.option(
    "--topics",
    default=None,
    help="Comma-separated topics without prefix (live mode) [default: md.trades,md.candles].",
)
@click.option("--symbols", default=None, help="Only these comma-separated symbols.")
@click.option(
    "--batch-size",
    type=click.IntRange(min=1),
    default=SinkOptions.batch_size,
    show_default=True,
    help="Records per store write.",
)
@click.option(
    "--batch-wait-ms",
    type=click.IntRange(min=1),
    default=SinkOptions.batch_wait_ms,
    show_default=True,
    help="Longest wait before a batch that is not full is written.",
)
def store_connector(
    mode: str, topics: str | None, symbols: str | None, batch_size: int, batch_wait_ms: int
) -> Service:
    try:
        chosen = parse_symbols(_items(symbols), "--symbols") if symbols is not None else ()
    except CommandRejected as exc:
        raise click.BadParameter(exc.reason, param_hint=f"'{exc.field}'") from None
    try:
        return StoreConnector(
            mode=Mode(mode),
            topics=tuple(_items(topics)),
            symbols=chosen,
            options=SinkOptions(batch_size=batch_size, batch_wait_ms=batch_wait_ms),
        )
    except ValueError as exc:
        raise click.UsageError(str(exc)) from None

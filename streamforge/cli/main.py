"""Entry point of the ``streamforge`` command; each sub-command lives in its own module."""

from __future__ import annotations

from pathlib import Path

import click

from streamforge import __version__
from streamforge.cli.book import book
from streamforge.cli.control import events, send
from streamforge.cli.kafka import kafka
from streamforge.cli.run import run
from streamforge.cli.schema import schema
from streamforge.cli.sim import sim
from streamforge.cli.store import store
from streamforge.cli.topics import topics
from streamforge.cli.up import down, status, up
from streamforge.cli.workflows import job, jobs, retry, stop, submit
from streamforge.exchanges.binance.trade_json import native_status


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    envvar="STREAMFORGE_CONFIG",
    help="Settings file (default: ./streamforge.toml if present).",
)
def cli(config: Path | None) -> None:
    """StreamForge: real-time crypto market data into Kafka, storage, graphs and GNNs."""


@cli.command()
def version() -> None:
    """Print the StreamForge version, and whether the compiled extension is in use."""
    click.echo(f"streamforge {__version__}")
    click.echo(native_status())


for command in (
    book,
    down,
    events,
    job,
    jobs,
    kafka,
    retry,
    run,
    schema,
    send,
    sim,
    status,
    stop,
    store,
    submit,
    topics,
    up,
):
    cli.add_command(command)


def main() -> None:
    """Run the CLI (console script ``streamforge``)."""
    cli()

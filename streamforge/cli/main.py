"""Entry point of the ``streamforge`` command; each sub-command lives in its own module."""

from __future__ import annotations

import click

from streamforge import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
def cli() -> None:
    """StreamForge: real-time crypto market data into Kafka, storage, graphs and GNNs."""


@cli.command()
def version() -> None:
    """Print the StreamForge version."""
    click.echo(f"streamforge {__version__}")


def main() -> None:
    """Run the CLI (console script ``streamforge``)."""
    cli()

"""``streamforge topics``: create and list the platform's topics."""

from __future__ import annotations

import click

from streamforge.bus import ensure_topics, list_topics, platform_topics
from streamforge.cli.common import async_command, settings_from


@click.group()
def topics() -> None:
    """Create and list Kafka topics."""


@topics.command("create")
@click.option("--partitions", default=6, show_default=True, help="Partitions of md.* topics.")
@click.pass_context
@async_command
async def create(ctx: click.Context, partitions: int) -> None:
    """Create every platform topic that is missing (safe to repeat)."""
    settings = settings_from(ctx)
    specs = platform_topics(market_partitions=partitions)
    created = await ensure_topics(settings, specs)
    for name in created:
        click.echo(f"created {name}")
    click.echo(f"{len(created)} created, {len(specs) - len(created)} already present")


@topics.command("list")
@click.pass_context
@async_command
async def list_(ctx: click.Context) -> None:
    """List the topics under the configured prefix."""
    for name in await list_topics(settings_from(ctx)):
        click.echo(name)

"""``streamforge send`` and ``streamforge events``: the debug producer and the event tail."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
import msgspec

from streamforge.cli.common import async_command, settings_from
from streamforge.orchestration.client import ControlClient
from streamforge.schemas import Command, CommandName, Event, EventName, encode


def _parse_payload(raw: str | None) -> dict[str, Any]:
    if raw is None:
        return {}
    try:
        value = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise click.BadParameter(f"not valid JSON: {exc.msg}", param_hint="--payload") from None
    if not isinstance(value, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--payload")
    return value


def format_event(event: Event) -> str:
    """One readable line for an event."""
    when = datetime.fromtimestamp(event.timestamp / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
    details = " ".join(f"{k}={v}" for k, v in event.payload.items())
    return f"{when} {event.queue_id:<20} {event.event.value:<18} {event.producer}  {details}"


@click.command()
@click.argument("command", type=click.Choice([c.value for c in CommandName]))
@click.option("--queue-id", required=True, help="Queue (workflow) id, or '*' for all.")
@click.option("--target", default="*", show_default=True, help="Service name, or '*'.")
@click.option("--payload", default=None, help="Command payload as a JSON object.")
@click.option("--expect-pong", is_flag=True, help="Wait for pong replies and print them.")
@click.option(
    "--timeout", "wait_s", default=10.0, show_default=True, help="Seconds to wait for replies."
)
@click.pass_context
@async_command
async def send(
    ctx: click.Context,
    command: str,
    queue_id: str,
    target: str,
    payload: str | None,
    expect_pong: bool,
    wait_s: float,
) -> None:
    """Publish COMMAND on queue-control (the debug producer)."""
    try:
        cmd = Command.new(command, queue_id, target=target, payload=_parse_payload(payload))
    except msgspec.ValidationError as exc:
        raise click.ClickException(f"invalid command: {exc}") from None
    async with ControlClient(settings_from(ctx)) as client:
        await client.send(cmd)
        click.echo(f"sent {cmd.command.value} {cmd.command_id} to {cmd.queue_id} ({cmd.target})")
        if not expect_pong:
            return
        if cmd.command is not CommandName.PING:
            raise click.ClickException("--expect-pong only applies to ping")
        pongs = await client.replies(cmd, {EventName.PONG}, wait_s)
    if not pongs:
        raise click.ClickException(f"no pong from {queue_id} within {wait_s:g} s")
    for pong in pongs:
        click.echo(f"pong from {pong.producer} state={pong.payload.get('state')}")


@click.group()
def events() -> None:
    """Read the event log (queue-events)."""


@events.command("tail")
@click.option("--queue-id", default=None, help="Only events of this queue id.")
@click.option("--json", "as_json", is_flag=True, help="One JSON event a line.")
@click.option("--from-beginning", is_flag=True, help="Start at the beginning of the log.")
@click.option("--count", type=int, default=None, help="Exit after this many events.")
@click.pass_context
@async_command
async def tail(
    ctx: click.Context, queue_id: str | None, as_json: bool, from_beginning: bool, count: int | None
) -> None:
    """Follow events as they arrive (Ctrl-C to stop)."""
    seen = 0
    async with ControlClient(settings_from(ctx), from_beginning=from_beginning) as client:
        async for event in client.events(queue_id):
            click.echo(encode(event).decode() if as_json else format_event(event))
            seen += 1
            if count is not None and seen >= count:
                return

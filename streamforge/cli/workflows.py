"""Headless workflow commands: ``submit``, ``jobs``, ``job``, ``stop``, ``retry``.

They talk to the queue-manager only through Kafka (commands on ``queue-control``, state folded
from ``queue-events``), so CI drives StreamForge exactly as the console does. Exit codes of
``submit --wait``, ``stop`` and ``retry``: 0 success, 1 failure (or no answer), 2 rejected.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from typing import Any

import click

from streamforge.cli.common import async_command, settings_from
from streamforge.cli.jobs_view import job_detail, jobs_table, progress_line
from streamforge.cli.times import time_option_callback
from streamforge.orchestration.client import ControlClient
from streamforge.orchestration.follow import WorkflowFollower
from streamforge.orchestration.state import WorkflowBoard, WorkflowState, WorkflowStatus
from streamforge.orchestration.workflows import new_queue_id
from streamforge.schemas import Command, CommandName, Event, EventName, now_millis

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REJECTED = 2
QUEUE_MANAGER = "queue-manager"


def _emit_json(value: Any) -> None:
    click.echo(json.dumps(value, sort_keys=True))


def _wait_options(func: Callable[..., Any]) -> Callable[..., Any]:
    for option in reversed(
        [
            click.option("--queue-id", default=None, help="Id for the workflow (default: new)."),
            click.option("--wait", is_flag=True, help="Follow the workflow until it ends."),
            click.option("--json", "as_json", is_flag=True, help="Print JSON, not text."),
            click.option(
                "--answer-timeout",
                default=30.0,
                show_default=True,
                help="Seconds to wait for the queue-manager's answer.",
            ),
        ]
    ):
        func = option(func)
    return func


@click.group()
def submit() -> None:
    """Start a workflow (the queue-manager must be running)."""


@submit.command("backfill")
@click.option("--symbol", required=True, help="Exchange symbol, e.g. BTCUSDT.")
@click.option("--interval", default="1m", show_default=True, help="Kline interval.")
@click.option(
    "--from", "start", required=True, callback=time_option_callback, help="Start (UTC ISO or ms)."
)
@click.option(
    "--to",
    "end",
    required=True,
    callback=time_option_callback,
    help="End, excluded (UTC ISO or ms).",
)
@_wait_options
@click.pass_context
def submit_backfill(
    ctx: click.Context, /, symbol: str, interval: str, start: int, end: int, **options: Any
) -> None:
    """Load klines and trades of SYMBOL over [--from, --to) and persist them."""
    params = {"symbol": symbol, "interval": interval, "from": start, "to": end}
    _submit(ctx, "backfill", params, hint=symbol, **options)


@submit.command("live")
@click.option("--symbols", required=True, help="Comma-separated symbols, e.g. ETHUSDT,BTCUSDT.")
@_wait_options
@click.pass_context
def submit_live(ctx: click.Context, /, symbols: str, **options: Any) -> None:
    """Stream SYMBOLS live into md.* and persist trades and candles (until stopped)."""
    _submit(ctx, "live", {"symbols": symbols}, **options)


@submit.command("workflow")
@click.argument("name")
@click.option(
    "--param", "-p", "pairs", multiple=True, help="A parameter as KEY=VALUE (repeatable)."
)
@_wait_options
@click.pass_context
def submit_workflow(
    ctx: click.Context, /, name: str, pairs: tuple[str, ...], **options: Any
) -> None:
    """Start workflow NAME (built in, or from the queue-manager's --workflows file)."""
    params: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"expected KEY=VALUE, got {pair!r}", param_hint="--param")
        params[key] = value
    _submit(ctx, name, params, **options)


def _submit(
    ctx: click.Context,
    workflow: str,
    params: dict[str, Any],
    *,
    queue_id: str | None,
    wait: bool,
    as_json: bool,
    answer_timeout: float,
    hint: str = "",
) -> None:
    queue_id = queue_id or new_queue_id(workflow, hint)
    try:
        command = Command.new(
            CommandName.START,
            queue_id,
            target=QUEUE_MANAGER,
            payload={"workflow": workflow, "params": params},
        )
    except ValueError as exc:  # msgspec.ValidationError: a bad --queue-id
        raise click.BadParameter(str(exc), param_hint="--queue-id") from None
    ctx.exit(_run_submit(ctx, command, wait=wait, as_json=as_json, answer_timeout=answer_timeout))


@async_command
async def _run_submit(
    ctx: click.Context, command: Command, *, wait: bool, as_json: bool, answer_timeout: float
) -> int:
    async with ControlClient(settings_from(ctx)) as client:
        follower = WorkflowFollower(client)
        await client.send(command)
        answer = await follower.answer(command, answer_timeout)
        # Followed as JSON, the one object printed is the workflow's final view.
        code = _report_answer(command, answer, as_json=as_json, quiet=as_json and wait)
        if code != EXIT_OK or not wait:
            return code
        render = _progress_renderer(as_json)
        workflow = await follower.until_done(command.queue_id, render)
    return _report_end(workflow, as_json)


def _report_answer(
    command: Command, answer: Event | None, *, as_json: bool, quiet: bool = False
) -> int:
    """Print the queue-manager's answer (an acceptance not when ``quiet``); return the exit
    code it implies."""
    if answer is None:
        message = f"no answer from the queue-manager within the timeout ({command.queue_id})"
        if as_json:
            _emit_json({"queue_id": command.queue_id, "answered": False, "error": message})
        else:
            click.echo(f"error: {message}; is it running?", err=True)
        return EXIT_FAILED
    if answer.event is EventName.REJECTED:
        field = answer.payload.get("field", "")
        reason = answer.payload.get("reason", "")
        if as_json:
            _emit_json(
                {
                    "queue_id": command.queue_id,
                    "status": "rejected",
                    "field": field,
                    "reason": reason,
                }
            )
        else:
            click.echo(f"rejected: {field}: {reason}", err=True)
        return EXIT_REJECTED
    if quiet:
        return EXIT_OK
    if as_json:
        _emit_json(
            {"queue_id": command.queue_id, "status": "accepted", "command_id": command.command_id}
        )
    else:
        click.echo(command.queue_id)
    return EXIT_OK


def _progress_renderer(as_json: bool) -> Callable[[WorkflowState], None]:
    """Progress on a terminal: a bar redrawn in place; otherwise a line per change."""
    if as_json:
        return lambda _: None
    interactive = sys.stderr.isatty()
    last: list[object] = [None]

    def render(workflow: WorkflowState) -> None:
        line = progress_line(workflow, now_millis())
        if interactive:
            click.echo("\r\x1b[2K" + line, nl=False, err=True)
            return
        # Plain output gets a line when a status or a whole percent changes, not per tick.
        state = (
            workflow.status,
            tuple((s.status, int((s.progress or 0) * 100)) for s in workflow.steps.values()),
        )
        if state != last[0]:
            click.echo(line, err=True)
            last[0] = state

    return render


def _report_end(workflow: WorkflowState, as_json: bool) -> int:
    if as_json:
        _emit_json(workflow.view())
    else:
        if sys.stderr.isatty():
            click.echo(err=True)
        ending = f"{workflow.queue_id} {workflow.status.value}"
        click.echo(ending + (f": {workflow.reason}" if workflow.reason else ""))
    return EXIT_OK if workflow.status is WorkflowStatus.SUCCEEDED else EXIT_FAILED


async def _board(ctx: click.Context) -> tuple[ControlClient, WorkflowBoard]:
    client = ControlClient(settings_from(ctx), from_beginning=True)
    await client.start()
    board = WorkflowBoard()
    try:
        await client.replay(board.apply)
    except BaseException:
        await client.stop()
        raise
    return client, board


@click.command()
@click.option("--watch", is_flag=True, help="Keep following (Ctrl-C to stop).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON (one object a line).")
@click.pass_context
@async_command
async def jobs(ctx: click.Context, watch: bool, as_json: bool) -> None:
    """List workflows and their state, rebuilt from the event log."""
    client, board = await _board(ctx)
    try:
        _print_jobs(board, as_json, clear=False)
        while watch:
            changed = False
            for event in await client.next_events():
                changed |= board.apply(event) is not None
            if changed:
                _print_jobs(board, as_json, clear=sys.stdout.isatty())
    finally:
        await client.stop()


def _print_jobs(board: WorkflowBoard, as_json: bool, *, clear: bool) -> None:
    if as_json:
        _emit_json([workflow.view() for workflow in board])
        return
    if clear:
        click.echo("\x1b[H\x1b[2J", nl=False)
    click.echo(jobs_table(board, now_millis()))


@click.command()
@click.argument("queue_id")
@click.option("--json", "as_json", is_flag=True, help="Print JSON with the event history.")
@click.pass_context
@async_command
async def job(ctx: click.Context, queue_id: str, as_json: bool) -> None:
    """Show one workflow: steps, progress and its event history."""
    client, board = await _board(ctx)
    await client.stop()
    workflow = board.get(queue_id)
    if workflow is None:
        raise click.ClickException(f"no workflow {queue_id!r} on the event log")
    if as_json:
        view = workflow.view()
        view["events"] = [
            {"event": e.event.value, "producer": e.producer, "timestamp": e.timestamp, **e.payload}
            for e in workflow.history
        ]
        _emit_json(view)
    else:
        click.echo(job_detail(workflow, now_millis()))


def _control_command(name: CommandName, verb: str) -> click.Command:
    @click.command(name.value, help=f"{verb} a workflow by its QUEUE_ID.")
    @click.argument("queue_id")
    @click.option("--json", "as_json", is_flag=True, help="Print the answer as JSON.")
    @click.option("--answer-timeout", default=30.0, show_default=True, help="Seconds to wait.")
    @click.pass_context
    @async_command
    async def command(
        ctx: click.Context, queue_id: str, as_json: bool, answer_timeout: float
    ) -> None:
        cmd = Command.new(name, queue_id, target=QUEUE_MANAGER)
        async with ControlClient(settings_from(ctx)) as client:
            await client.send(cmd)
            answer = await WorkflowFollower(client).answer(cmd, answer_timeout)
        ctx.exit(_report_answer(cmd, answer, as_json=as_json))

    return command


stop = _control_command(CommandName.STOP, "Stop (cancel)")
retry = _control_command(CommandName.RETRY, "Retry the failed steps of")

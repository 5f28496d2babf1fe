"""``streamforge up``, ``status`` and ``down``: the embedded default stack on one data dir.

None of them imports the console: ``up`` runs it (``streamforge-tui``) as a process of its own.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click
import msgspec

from dev_env.kafka import KafkaEnvError
from dev_env.supervisor import (
    EXCHANGES,
    Stack,
    StackLock,
    StackOptions,
    StackPaths,
    StatusLines,
    SupervisorError,
    SupervisorState,
    left_running,
    run_stack,
    running_stack,
    start_detached,
    take_down,
)
from streamforge.cli.common import run_async, settings_from
from streamforge.cli.up_view import services_table, status_text
from streamforge.services.base import CommandRejected
from streamforge.services.loader_ws.subscriptions import parse_symbols

#: ``streamforge-tui`` with this interpreter, whether or not its script is on PATH.
CONSOLE = (sys.executable, "-c", "from tui.app import main; main()")
EXIT_NOT_HEALTHY = 1
EXIT_NOT_RUNNING = 3

_DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where the stack keeps everything [default: the StreamForge data dir].",
)


@click.command()
@click.option(
    "--exchange",
    type=click.Choice(EXCHANGES),
    default="sim",
    show_default=True,
    help="sim: a local exchange simulator; binance: the live exchange.",
)
@click.option(
    "--symbols", default="BTCUSDT,ETHUSDT", show_default=True, help="Symbols to stream live."
)
@click.option("--no-console", is_flag=True, help="Print status lines instead of the console.")
@click.option(
    "--detach", is_flag=True, help="Return once every service is healthy; the stack runs on."
)
@_DATA_DIR
@click.option(
    "--timeout",
    type=click.FloatRange(min=1),
    default=600.0,
    show_default=True,
    help="Seconds --detach waits for every service to be healthy.",
)
@click.pass_context
def up(
    ctx: click.Context,
    exchange: str,
    symbols: str,
    no_console: bool,
    detach: bool,
    data_dir: Path | None,
    timeout: float,
) -> None:
    """Start Kafka, the simulator (or connect to Binance), the queue-manager and a live
    workflow that streams SYMBOLS into the store; supervise them, then open the console.

    Ctrl-C (or quitting the console) stops everything; so does 'streamforge down'.
    """
    paths = _paths(ctx, data_dir)
    chosen = _symbols(symbols)
    config = _config_file(ctx)
    if detach:
        _up_detached(ctx, paths, exchange, chosen, config, timeout)
        return
    options = StackOptions(paths.data_dir, chosen, exchange, config)
    lines = StatusLines()
    stack = Stack(options, settings_from(ctx), lines)
    try:
        with StackLock(paths):
            run_async(run_stack(stack, lines, None if no_console else _console()))
    except (SupervisorError, KafkaEnvError) as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@_DATA_DIR
@click.option("--json", "as_json", is_flag=True, help="Print the state as JSON.")
@click.pass_context
def status(ctx: click.Context, data_dir: Path | None, as_json: bool) -> None:
    """List the stack's services and their state.

    Exit code 0: every service is healthy; 1: some are not; 3: no stack is running.
    """
    paths = _paths(ctx, data_dir)
    state = running_stack(paths)
    if state is None:
        left = left_running(paths)
        if as_json:
            view = {"running": False, "data_dir": str(paths.data_dir), "left_running": left}
            click.echo(json.dumps(view, sort_keys=True))
        else:
            click.echo(f"no stack is running on {paths.data_dir}")
        if left and not as_json:
            click.echo(
                f"its supervisor died, leaving {', '.join(left)} running: "
                "'streamforge down' stops them"
            )
        ctx.exit(EXIT_NOT_RUNNING)
    if as_json:
        view = {**msgspec.to_builtins(state), "running": True, "healthy": state.healthy}
        click.echo(json.dumps(view, sort_keys=True))
    else:
        click.echo(status_text(state, time.time()))
    ctx.exit(0 if state.healthy else EXIT_NOT_HEALTHY)


@click.command()
@_DATA_DIR
@click.pass_context
def down(ctx: click.Context, data_dir: Path | None) -> None:
    """Stop the stack on the data dir, and wait until none of its processes is left."""
    paths = _paths(ctx, data_dir)
    state = running_stack(paths)
    if state is not None:
        click.echo(f"stopping the stack on {paths.data_dir} (supervisor pid {state.pid})")
    result = take_down(paths)
    if result.remaining:
        raise click.ClickException(f"could not stop: {', '.join(result.remaining)}")
    if result.swept:
        click.echo(f"stopped what the supervisor left running: {', '.join(result.swept)}")
    if result.supervisor is None and not result.swept:
        click.echo(f"no stack is running on {paths.data_dir}")
        return
    click.echo("stack stopped")


def _up_detached(
    ctx: click.Context,
    paths: StackPaths,
    exchange: str,
    symbols: tuple[str, ...],
    config: Path | None,
    timeout: float,
) -> None:
    argv = [
        *(sys.executable, "-m", "streamforge", "up", "--no-console"),
        *("--exchange", exchange, "--symbols", ",".join(symbols)),
        *("--data-dir", str(paths.data_dir)),
    ]
    env = dict(os.environ)
    if config is not None:
        env["STREAMFORGE_CONFIG"] = str(config.absolute())
    began = time.monotonic()
    try:
        state = start_detached(paths, argv, env, timeout, progress=click.echo)
    except SupervisorError as exc:
        raise click.ClickException(str(exc)) from None
    took = time.monotonic() - began
    click.echo(f"\nstack up in {took:.0f}s on {paths.data_dir} (supervisor pid {state.pid})\n")
    click.echo(services_table(state, time.time()))
    click.echo(_next_steps(ctx, paths, state))


def _next_steps(ctx: click.Context, paths: StackPaths, state: SupervisorState) -> str:
    option = "" if paths.data_dir == _paths(ctx, None).data_dir else f" --data-dir {paths.data_dir}"
    bootstrap = state.details.get("kafka", "")
    env = (
        ""
        if bootstrap == settings_from(ctx).kafka.bootstrap
        else f"STREAMFORGE_KAFKA_BOOTSTRAP={bootstrap} "
    )
    return "\n".join(
        [
            "",
            f"kafka     {bootstrap} ({state.details.get('kafka_origin', '')})",
            f"exchange  {state.details.get('exchange', '')}",
            f"store     {state.details.get('store', '')}",
            f"logs      {paths.log_dir}",
            "",
            f"console: {env}streamforge-tui",
            f"status:  streamforge status{option}",
            f"stop:    streamforge down{option}",
        ]
    )


def _paths(ctx: click.Context, data_dir: Path | None) -> StackPaths:
    return StackPaths((data_dir or settings_from(ctx).data_dir).absolute())


def _config_file(ctx: click.Context) -> Path | None:
    config = ctx.find_root().params.get("config")
    return Path(config).absolute() if config else None


def _symbols(text: str) -> tuple[str, ...]:
    items = [item.strip().upper() for item in text.split(",") if item.strip()]
    try:
        return parse_symbols(items, "--symbols")
    except CommandRejected as exc:
        raise click.BadParameter(exc.reason, param_hint="'--symbols'") from None


def _console() -> tuple[str, ...] | None:
    """The console's command, or None (with a note) when there is no terminal to show it."""
    if sys.stdin.isatty() and sys.stdout.isatty():
        return CONSOLE
    click.echo("no terminal for the console: printing status lines instead")
    return None

"""``streamforge sim``: run the Binance-compatible exchange simulator until Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import signal
from datetime import datetime
from pathlib import Path

import click
import msgspec

from streamforge import eventloop
from streamforge.simulator import Faults, SimConfig, Simulator


def _speed(value: str) -> float | None:
    if value == "max":
        return None
    try:
        speed = float(value)
    except ValueError:
        raise click.BadParameter("a positive factor or 'max'") from None
    if speed <= 0:
        raise click.BadParameter("a positive factor or 'max'")
    return speed


@click.command("sim")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=0, show_default=True, help="Port; 0 picks a free one.")
@click.option(
    "--seed", type=int, default=1, show_default=True, help="Seed of the synthetic market."
)
@click.option("--symbols", default="BTCUSDT,ETHUSDT", show_default=True, help="Comma-separated.")
@click.option(
    "--trade-rate",
    type=float,
    default=0.5,
    show_default=True,
    help="Average aggregate trades per second and symbol.",
)
@click.option(
    "--genesis",
    type=click.DateTime(["%Y-%m-%d"]),
    default="2024-01-01",
    show_default=True,
    help="First day of the synthetic history.",
)
@click.option("--book-levels", type=int, default=1000, show_default=True, help="Levels a side.")
@click.option("--weight-limit", type=int, default=6000, show_default=True, help="Weight a minute.")
@click.option("--ping-interval", type=float, default=20.0, show_default=True, help="Seconds.")
@click.option(
    "--replay",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve this recording instead of the synthetic market.",
)
@click.option("--speed", default="1", show_default=True, help="Replay speed factor, or 'max'.")
@click.option("--bench", is_flag=True, help="Send pre-rendered frames as fast as clients read.")
@click.option("--latency-ms", type=float, default=0.0, help="Fault: added latency.")
@click.option("--rest-error-ratio", type=float, default=0.0, help="Fault: share of REST 5xx.")
@click.option("--malformed-ratio", type=float, default=0.0, help="Fault: share of bad frames.")
@click.option("--depth-gap-ratio", type=float, default=0.0, help="Fault: share of dropped diffs.")
@click.option("--disconnect-every", type=float, help="Fault: close connections every N seconds.")
@click.option("--shutdown-every", type=float, help="Fault: serverShutdown + close every N seconds.")
def sim(
    host: str,
    port: int,
    seed: int,
    symbols: str,
    trade_rate: float,
    genesis: datetime,
    book_levels: int,
    weight_limit: int,
    ping_interval: float,
    replay: Path | None,
    speed: str,
    bench: bool,
    latency_ms: float,
    rest_error_ratio: float,
    malformed_ratio: float,
    depth_gap_ratio: float,
    disconnect_every: float | None,
    shutdown_every: float | None,
) -> None:
    """Serve a Binance-compatible exchange (REST, streams, bulk files); prints its settings."""
    try:
        faults = msgspec.convert(
            {
                "latency_ms": latency_ms,
                "rest_error_ratio": rest_error_ratio,
                "malformed_ratio": malformed_ratio,
                "depth_gap_ratio": depth_gap_ratio,
                "disconnect_every_s": disconnect_every,
                "shutdown_every_s": shutdown_every,
            },
            Faults,
        )
    except msgspec.ValidationError as exc:
        raise click.UsageError(f"fault settings: {exc}") from None
    config = SimConfig(
        host=host,
        port=port,
        seed=seed,
        symbols=tuple(s.strip().upper() for s in symbols.split(",") if s.strip()),
        trade_rate=trade_rate,
        genesis=genesis.date(),
        book_levels=book_levels,
        weight_limit=weight_limit,
        ping_interval_s=ping_interval,
        replay=replay,
        speed=_speed(speed),
        bench=bench,
        faults=faults,
    )
    eventloop.run(_serve(config))


async def _serve(config: SimConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with Simulator(config) as simulator:
        for name, value in simulator.environment().items():
            click.echo(f"{name}={value}")
        await stop.wait()


if __name__ == "__main__":
    sim()

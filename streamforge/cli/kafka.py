"""``streamforge kafka``: start and stop the local single-node Apache Kafka broker."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

import click

from dev_env.kafka import KafkaEnvError, LocalKafka

_PORT = click.IntRange(0, 65535)
# The JVM's exit codes after a clean shutdown on SIGINT or SIGTERM (128 + signal number).
_STOPPED_BY_SIGNAL = (128 + signal.SIGINT, 128 + signal.SIGTERM)
_DATA_DIR = click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Broker data dir [default: <StreamForge data dir>/kafka].",
)


@click.group()
def kafka() -> None:
    """Run a local single-node Apache Kafka (KRaft) broker for development."""


@kafka.command()
@click.option("--port", type=_PORT, default=9092, show_default=True, help="Client port (0: free).")
@click.option(
    "--controller-port", type=_PORT, default=0, show_default=True, help="Controller port (0: free)."
)
@_DATA_DIR
@click.option("--detach", is_flag=True, help="Leave the broker running in the background.")
def start(port: int, controller_port: int, data_dir: Path | None, detach: bool) -> None:
    """Start the broker; in the foreground it runs until Ctrl-C or SIGTERM."""
    broker = LocalKafka(data_dir, port=port, controller_port=controller_port)
    if detach:
        _start(broker, detach=True)
        return
    with _sigterm_interrupts():
        try:
            _start(broker, detach=False)
            code: int | None = broker.wait()
        except KeyboardInterrupt:
            code = None
    if code is not None and code not in _STOPPED_BY_SIGNAL:
        raise click.ClickException(f"kafka exited with code {code}; see {broker.log_file}")
    try:
        # Ctrl-C and `kafka stop` reach the JVM directly, so it may be gone already.
        broker.stop(missing_ok=True)
    except KafkaEnvError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("kafka stopped")


@kafka.command()
@_DATA_DIR
def stop(data_dir: Path | None) -> None:
    """Stop the broker running on the data dir."""
    try:
        LocalKafka(data_dir).stop()
    except KafkaEnvError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("kafka stopped")


def _start(broker: LocalKafka, detach: bool) -> None:
    try:
        state = broker.start(detach=detach)
    except KafkaEnvError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"kafka ready on {state.bootstrap}")


@contextmanager
def _sigterm_interrupts() -> Iterator[None]:
    """Make SIGTERM interrupt like Ctrl-C, so that both stop the broker cleanly."""
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    kafka()

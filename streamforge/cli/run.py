"""``streamforge run <service>``: any service in the foreground, with the shared lifecycle."""

from __future__ import annotations

import click

from streamforge.cli.run_loader_history import loader_history
from streamforge.cli.run_loader_ws import loader_ws
from streamforge.cli.run_queue_manager import queue_manager
from streamforge.cli.run_store_connector import store_connector
from streamforge.cli.service_command import service_command
from streamforge.services.base import Service
from streamforge.services.dummy import DummyService


@click.group()
def run() -> None:
    """Run a service in the foreground (Ctrl-C or a stop command ends it)."""


@service_command("dummy-service", "Diagnostic service: answers ping, simulates loading or fails.")
@click.option("--simulate-loading", is_flag=True, help="Progress 0 to 1, then finish.")
@click.option("--duration", default=10.0, show_default=True, help="Seconds of simulated loading.")
@click.option("--fail-after", type=float, default=None, help="Raise an error after N seconds.")
@click.option(
    "--hang-after",
    type=float,
    default=None,
    help="Block for good after N seconds (no more events; only SIGKILL ends it).",
)
def dummy_service(
    simulate_loading: bool, duration: float, fail_after: float | None, hang_after: float | None
) -> Service:
    return DummyService(
        simulate_loading=simulate_loading,
        duration=duration,
        fail_after=fail_after,
        hang_after=hang_after,
    )


for command in (dummy_service, loader_history, loader_ws, queue_manager, store_connector):
    run.add_command(command)

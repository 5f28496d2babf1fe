"""``streamforge run <service>``: any service in the foreground, with the shared lifecycle."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from streamforge.cli.common import run_async, settings_from
from streamforge.services import Service, ServiceHost
from streamforge.services.dummy import DummyService
from streamforge.services.logs import configure_logging


def service_command(name: str, help_text: str) -> Callable[[Callable[..., Service]], click.Command]:
    """Turn a factory of a service into a ``run`` sub-command with the shared options."""

    def decorate(factory: Callable[..., Service]) -> click.Command:
        @click.option("--queue-id", required=True, help="The queue (workflow) id of this run.")
        @click.option("--metrics-port", type=int, default=None, help="Port of /metrics, /health.")
        @click.option(
            "--loading-interval",
            default=2.0,
            show_default=True,
            help="Seconds between loading events.",
        )
        @click.pass_context
        def command(
            ctx: click.Context,
            /,
            queue_id: str,
            metrics_port: int | None,
            loading_interval: float,
            **options: Any,
        ) -> None:
            settings = settings_from(ctx)
            if metrics_port is not None:
                settings = dataclasses.replace(settings, metrics_port=metrics_port)
            configure_logging(settings.log_level)
            host = ServiceHost(
                factory(**options), settings, queue_id, loading_interval=loading_interval
            )
            ctx.exit(run_async(host.run()))

        command.__doc__ = help_text
        return click.command(name, help=help_text)(_copy_params(factory, command))

    return decorate


def _copy_params(source: Callable[..., Any], target: Callable[..., Any]) -> Callable[..., Any]:
    target.__click_params__ = [  # type: ignore[attr-defined]
        *getattr(target, "__click_params__", []),
        *getattr(source, "__click_params__", []),
    ]
    return target


@click.group()
def run() -> None:
    """Run a service in the foreground (Ctrl-C or a stop command ends it)."""


@service_command("dummy-service", "Diagnostic service: answers ping, simulates loading or fails.")
@click.option("--simulate-loading", is_flag=True, help="Progress 0 to 1, then finish.")
@click.option("--duration", default=10.0, show_default=True, help="Seconds of simulated loading.")
@click.option("--fail-after", type=float, default=None, help="Raise an error after N seconds.")
def dummy_service(simulate_loading: bool, duration: float, fail_after: float | None) -> Service:
    return DummyService(simulate_loading=simulate_loading, duration=duration, fail_after=fail_after)


run.add_command(dummy_service)

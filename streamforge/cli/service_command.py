"""Turn a service factory into a ``streamforge run <service>`` sub-command."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import click

from streamforge import gc_policy
from streamforge.cli.common import run_async, settings_from
from streamforge.services.base import Service
from streamforge.services.host import ServiceHost
from streamforge.services.logs import configure_logging


def service_command(
    name: str, help_text: str, *, default_queue_id: str | None = None
) -> Callable[[Callable[..., Service]], click.Command]:
    """Turn a factory of a service into a ``run`` sub-command with the shared options.

    ``--queue-id`` is required unless the service has a ``default_queue_id`` (a long-running
    service that belongs to no workflow).
    """

    def decorate(factory: Callable[..., Service]) -> click.Command:
        @click.option(
            "--queue-id",
            required=default_queue_id is None,
            default=default_queue_id,
            show_default=default_queue_id is not None,
            help="The queue (workflow) id of this run.",
        )
        @click.option("--step", default=None, help="Workflow step this run executes (tags events).")
        @click.option(
            "--attempt", type=click.IntRange(min=1), default=None, help="Attempt of that step."
        )
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
            step: str | None,
            attempt: int | None,
            metrics_port: int | None,
            loading_interval: float,
            **options: Any,
        ) -> None:
            settings = settings_from(ctx)
            if metrics_port is not None:
                settings = dataclasses.replace(settings, metrics_port=metrics_port)
            configure_logging(settings.log_level)
            tags: dict[str, str | int] = {}
            if step is not None:
                tags["step"] = step
            if attempt is not None:
                tags["attempt"] = attempt
            host = ServiceHost(
                factory(**options),
                settings,
                queue_id,
                loading_interval=loading_interval,
                tags=tags,
            )
            gc_policy.tune_for_throughput()  # this process runs this one service
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

"""``streamforge run queue-manager``: the workflow engine."""

from __future__ import annotations

from pathlib import Path

import click

from streamforge.cli.service_command import service_command
from streamforge.orchestration.workflows import DefinitionError, WorkflowCatalog
from streamforge.services.base import Service
from streamforge.services.queue_manager import QueueManager


def _runnable_services() -> set[str]:
    """The services a step may run: the sub-commands of the ``run`` group invoking us."""
    parent = click.get_current_context().parent
    if parent is None or not isinstance(parent.command, click.Group):
        return set()
    return set(parent.command.commands)


@service_command(
    "queue-manager",
    "Run workflows: answer commands on queue-control, start steps, follow them to the end.",
    default_queue_id="queue-manager",
)
@click.option(
    "--workflows",
    "files",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="YAML file of workflow definitions added to the built-in ones (repeatable).",
)
@click.option(
    "--leave-steps",
    is_flag=True,
    help="Leave running steps alive on exit (a restarted queue-manager adopts them).",
)
@click.option("--no-store", is_flag=True, help="Do not write workflow views to the store.")
def queue_manager(files: tuple[Path, ...], leave_steps: bool, no_store: bool) -> Service:
    try:
        catalog = WorkflowCatalog.load(files, services=_runnable_services())
    except DefinitionError as exc:
        raise click.UsageError(str(exc)) from None
    return QueueManager(
        catalog=catalog, persist_views=not no_store, stop_steps_on_exit=not leave_steps
    )

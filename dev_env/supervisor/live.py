"""The stack's ``live`` workflow: submitted to the queue-manager, followed on the event log,
cancelled when the stack stops.

Its steps (loader-ws, store-connector) are processes of the queue-manager, not of the
supervisor; their state comes from folding ``queue-events`` into a :class:`WorkflowBoard`, and
their health from the ``/health`` endpoint each announces in its ``started`` event.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from dev_env.supervisor.errors import StackStartError
from dev_env.supervisor.health import HttpHealth
from dev_env.supervisor.state import ServiceRecord, ServiceState
from streamforge.config import Settings
from streamforge.orchestration.client import ControlClient
from streamforge.orchestration.local_runner import LocalRunner, ref_process
from streamforge.orchestration.runner import StepLaunch
from streamforge.orchestration.state import StepState, StepStatus, WorkflowBoard
from streamforge.schemas import Command, CommandName, Event, EventName

#: Who the stack's commands are issued by.
ISSUER = "streamforge-up"
QUEUE_MANAGER = "queue-manager"

log = logging.getLogger(__name__)

_STEP_STATES = {
    StepStatus.PENDING: ServiceState.STARTING,
    # Until the service announces itself (and its health endpoint) with ``started``.
    StepStatus.RUNNING: ServiceState.STARTING,
    StepStatus.RETRYING: ServiceState.RESTARTING,
    StepStatus.FAILED: ServiceState.FAILED,
    StepStatus.SUCCEEDED: ServiceState.STOPPED,
    StepStatus.CANCELLED: ServiceState.STOPPED,
}


class LiveWorkflow:
    """One ``live`` workflow for ``symbols`` of the stack on ``data_dir``; the queue-manager
    logs its steps under ``steps_log_dir``.

    Its queue id starts with ``up-live-`` and a digest of the data dir, which tells the
    workflows of earlier stacks on that data dir from everyone else's.
    """

    def __init__(
        self,
        settings: Settings,
        symbols: tuple[str, ...],
        data_dir: Path,
        steps_log_dir: Path,
    ) -> None:
        self.symbols = symbols
        # Only to name the step logs as the queue-manager's local runner writes them.
        self._logs = LocalRunner(steps_log_dir)
        self._queue_prefix = f"up-live-{hashlib.sha256(bytes(data_dir)).hexdigest()[:6]}-"
        self.queue_id = f"{self._queue_prefix}{uuid.uuid4().hex[:8]}"
        self.board = WorkflowBoard()
        self._client = ControlClient(settings, from_beginning=True)
        #: The ``started`` payload of each (step, attempt) of this workflow.
        self._started: dict[tuple[str, int], dict[str, Any]] = {}
        self._follow: asyncio.Task[None] | None = None

    async def start(self, answer_timeout_s: float = 60.0) -> None:
        """Cancel what an earlier stack on this data dir left running, submit the workflow;
        return once the queue-manager has accepted it."""
        await self._client.start()
        await self._client.replay(self._apply)
        for workflow in self.board:
            leftover = workflow.queue_id.startswith(self._queue_prefix)
            if leftover and not workflow.status.is_terminal and not workflow.stop_requested:
                await self._send(CommandName.STOP, workflow.queue_id)
        payload = {"workflow": "live", "params": {"symbols": ",".join(self.symbols)}}
        command = await self._send(CommandName.START, self.queue_id, payload)
        await self._until(lambda: self.board.answered(command.command_id), answer_timeout_s)
        if not self.board.answered(command.command_id):
            raise StackStartError(
                f"the queue-manager did not answer the live workflow within {answer_timeout_s:g}s"
            )
        rejection = self.board.rejection(command.command_id)
        if rejection is not None:
            field, reason = rejection.payload.get("field"), rejection.payload.get("reason")
            raise StackStartError(
                f"the queue-manager rejected the live workflow: {field}: {reason}"
            )
        # Its steps are known once the submission that follows the acceptance is folded.
        await self._until(lambda: self.board.get(self.queue_id) is not None, answer_timeout_s)
        self._follow = asyncio.create_task(self._follow_events(), name="follow live workflow")

    async def records(self) -> list[ServiceRecord]:
        """The workflow's steps as services, each probed on its health endpoint."""
        workflow = self.board.get(self.queue_id)
        if workflow is None:
            return []
        return list(await asyncio.gather(*(self._record(s) for s in workflow.steps.values())))

    async def stop(self, timeout_s: float = 20.0) -> None:
        """Ask the queue-manager to cancel the workflow and wait until it has ended."""
        workflow = self.board.get(self.queue_id)
        if workflow is None or workflow.status.is_terminal:
            return
        await self._send(CommandName.STOP, self.queue_id)
        await self._until(self._ended, timeout_s)

    async def close(self) -> None:
        """Stop following the event log."""
        if self._follow is not None:
            self._follow.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._follow
        await self._client.stop()

    def _ended(self) -> bool:
        workflow = self.board.get(self.queue_id)
        return workflow is None or workflow.status.is_terminal

    async def _record(self, step: StepState) -> ServiceRecord:
        started = self._started.get((step.name, step.attempt))
        health: HttpHealth | None = None
        if started is not None and isinstance(started.get("metrics_port"), int):
            health = HttpHealth(f"http://127.0.0.1:{started['metrics_port']}/health")
        state = _STEP_STATES[step.status]
        if step.status is StepStatus.RUNNING and health is not None:
            state = ServiceState.HEALTHY if await health.check() else ServiceState.UNHEALTHY
        process = ref_process(step.ref) if step.ref else None
        launch = StepLaunch(self.queue_id, step.name, max(step.attempt, 1), step.plan.service)
        return ServiceRecord(
            name=step.plan.service,
            kind="step",
            state=state,
            pid=process[0] if process else None,
            pid_started=process[1] if process else None,
            restarts=max(step.attempt - 1, 0),
            started_at=step.started_at / 1000 if step.started_at else None,
            health=health.target if health else None,
            log=str(self._logs.log_path(launch)),
            reason=step.reason,
        )

    async def _send(
        self, name: CommandName, queue_id: str, payload: dict[str, Any] | None = None
    ) -> Command:
        command = Command.new(
            name, queue_id, target=QUEUE_MANAGER, payload=payload, issued_by=ISSUER
        )
        await self._client.send(command)
        return command

    async def _until(self, done: Callable[[], bool], timeout_s: float) -> None:
        """Wait until ``done()`` holds or ``timeout_s`` passes, folding the events that arrive
        (the follower folds them once it runs)."""
        deadline = time.monotonic() + timeout_s
        while not done() and time.monotonic() < deadline:
            if self._follow is not None:
                await asyncio.sleep(0.1)  # the follower folds
                continue
            for event in await self._client.next_events():
                self._apply(event)

    async def _follow_events(self) -> None:
        while True:
            try:
                events = await self._client.next_events()
            except Exception:  # a hiccup of Kafka must not end the following
                log.exception("cannot read queue-events")
                await asyncio.sleep(1)
                continue
            for event in events:
                self._apply(event)

    def _apply(self, event: Event) -> None:
        self.board.apply(event)
        step, attempt = event.payload.get("step"), event.payload.get("attempt")
        if (
            event.event is EventName.STARTED
            and event.queue_id == self.queue_id
            and isinstance(step, str)
            and isinstance(attempt, int)
        ):
            self._started[(step, attempt)] = event.payload

"""The queue-manager's decisions: commands in, workflow and step transitions out.

:class:`WorkflowManager` owns no I/O loop. The service feeds it commands, events read back from
``queue-events``, process exits from the runner, and clock ticks; it answers by emitting events
(applied to its :class:`WorkflowBoard` at once, then published) and by starting or stopping
steps through the :class:`Runner`. Everything it knows is in the board, which a restarted
queue-manager rebuilds from the log, so decisions carry on where they stopped.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from streamforge.orchestration.params import InvalidParam
from streamforge.orchestration.runner import Runner, StepExit, StepLaunch
from streamforge.orchestration.state import (
    StepState,
    StepStatus,
    WorkflowBoard,
    WorkflowState,
    WorkflowStatus,
)
from streamforge.orchestration.workflows import WorkflowCatalog
from streamforge.schemas import Command, CommandName, Event, EventName, now_millis
from streamforge.services.queue_manager.commands import Rejection

log = logging.getLogger(__name__)

Emit = Callable[[Event], Awaitable[None]]


class WorkflowManager:
    """Runs workflows as their events say; every public method is called under one lock.

    Args:
        board: The folded event log (rebuilt before the first command is handled).
        catalog: The workflows that ``start`` may name.
        runner: Starts and stops step processes.
        publish: Publishes an event on ``queue-events`` (and waits for the acknowledgement).
        producer: This queue-manager's ``service__instance`` name.
        command_ttl_s: Commands older than this are rejected as expired.
        stop_grace_s: Seconds a stopped step has to end before it is killed.
    """

    def __init__(
        self,
        board: WorkflowBoard,
        catalog: WorkflowCatalog,
        runner: Runner,
        publish: Emit,
        producer: str,
        *,
        command_ttl_s: float = 3600.0,
        stop_grace_s: float = 10.0,
    ) -> None:
        self.board = board
        self.catalog = catalog
        self.runner = runner
        self.producer = producer
        self.command_ttl_s = command_ttl_s
        self.stop_grace_s = stop_grace_s
        self._publish = publish
        #: The running step behind each runner ref.
        self._by_ref: dict[str, tuple[str, str]] = {}
        #: Refs being stopped, with why (a deadline, a stop, a failed sibling).
        self._stopping: dict[str, str] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        #: Workflows changed since :meth:`take_changed` was last called.
        self._changed: set[str] = set()

    # -- inputs -----------------------------------------------------------------------------

    async def adopt_running(self) -> None:
        """After a restart: track the processes of running steps, or treat them as ended."""
        for workflow in self.board:
            if workflow.status.is_terminal:
                continue
            for step in workflow.steps.values():
                if step.status is not StepStatus.RUNNING or step.ref is None:
                    continue
                self._by_ref[step.ref] = (workflow.queue_id, step.name)
                if await self.runner.adopt(step.ref):
                    log.info("adopted %s/%s (%s)", workflow.queue_id, step.name, step.ref)
                else:
                    await self.on_exit(
                        StepExit(step.ref, None, "not running after a queue-manager restart")
                    )

    async def on_command(self, command: Command | Rejection) -> None:
        """Answer a command (``accepted`` or ``rejected``) and act on it once."""
        if isinstance(command, Rejection):
            await self._reject(command)
            return
        if self.board.answered(command.command_id):
            return  # a re-delivery: it took effect the first time
        try:
            await self._handle(command)
        except InvalidParam as exc:
            await self._reject(
                Rejection(
                    command.command_id,
                    command.queue_id,
                    exc.field,
                    exc.reason,
                    command.command.value,
                )
            )

    def on_event(self, event: Event) -> None:
        """Fold an event read back from the log."""
        workflow = self.board.apply(event)
        if workflow is not None:
            self._changed.add(workflow.queue_id)

    async def on_exit(self, exit: StepExit) -> None:
        """A step's process ended: succeed, retry or fail the step."""
        where = self._by_ref.pop(exit.ref, None)
        why_stopped = self._stopping.pop(exit.ref, None)
        if where is None:
            return
        workflow = self.board.get(where[0])
        step = workflow.steps.get(where[1]) if workflow else None
        if workflow is None or step is None or step.status is not StepStatus.RUNNING:
            return
        if step.ref != exit.ref:
            return  # an earlier attempt's process
        base = {"step": step.name, "attempt": step.attempt}
        if workflow.stop_requested or why_stopped == _CANCELLED:
            await self._emit(EventName.STEP_CANCELLED, workflow, {**base, "reason": "stopped"})
        elif exit.code == 0 or (exit.code is None and step.outcome is EventName.FINISHED):
            await self._emit(
                EventName.STEP_SUCCEEDED,
                workflow,
                {**base, "records_written": step.records_written},
            )
        else:
            reason = why_stopped or self._failure_reason(step, exit)
            await self._fail_attempt(workflow, step, reason)

    async def tick(self) -> None:
        """Advance every live workflow: start what is ready, enforce deadlines, conclude."""
        now = now_millis()
        for workflow in list(self.board):
            if not workflow.status.is_terminal:
                await self._advance(workflow, now)

    def take_changed(self) -> list[WorkflowState]:
        """Workflows changed since the last call (to write their views to the store)."""
        changed = [w for qid in self._changed if (w := self.board.get(qid)) is not None]
        self._changed.clear()
        return changed

    async def close(self) -> None:
        """Wait for the stops in progress."""
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)

    # -- commands ---------------------------------------------------------------------------

    async def _handle(self, command: Command) -> None:
        age_s = time.time() - command.timestamp / 1000
        if age_s > self.command_ttl_s:
            raise InvalidParam("timestamp", f"expired: issued {age_s / 60:.0f} min ago")
        if command.command is CommandName.START:
            await self._start(command)
            return
        workflow = self.board.get(command.queue_id)
        if workflow is None:
            raise InvalidParam("queue_id", f"no workflow {command.queue_id!r}")
        if command.command is CommandName.STOP:
            if workflow.status.is_terminal:
                raise InvalidParam("queue_id", f"workflow already {workflow.status.value}")
            await self._accept(command, workflow)
        elif command.command is CommandName.RETRY:
            if workflow.status not in (WorkflowStatus.FAILED, WorkflowStatus.CANCELLED):
                raise InvalidParam(
                    "queue_id",
                    f"only a failed or cancelled workflow is retried, not a "
                    f"{workflow.status.value} one",
                )
            await self._accept(command, workflow)
            for step in workflow.steps.values():
                if step.status in (StepStatus.FAILED, StepStatus.CANCELLED):
                    await self._emit(EventName.STEP_PENDING, workflow, {"step": step.name})
            await self._emit(EventName.WORKFLOW_RUNNING, workflow, {"retry": True})

    async def _start(self, command: Command) -> None:
        existing = self.board.get(command.queue_id)
        if existing is not None:
            raise InvalidParam(
                "queue_id",
                f"already used by a {existing.status.value} {existing.workflow} workflow",
            )
        name = command.payload.get("workflow")
        definition = self.catalog.get(name) if isinstance(name, str) else None
        if definition is None:
            known = ", ".join(self.catalog.names())
            raise InvalidParam("payload.workflow", f"unknown workflow {name!r} (known: {known})")
        params = command.payload.get("params", {})
        if not isinstance(params, dict):
            raise InvalidParam("payload.params", "must be an object")
        values = definition.validate(params)
        plans = definition.plan(values)
        await self._publish_new(
            EventName.ACCEPTED,
            command.queue_id,
            {"command_id": command.command_id, "command": "start", "workflow": name},
        )
        await self._publish_new(
            EventName.WORKFLOW_SUBMITTED,
            command.queue_id,
            {
                "command_id": command.command_id,
                "workflow": name,
                "params": values,
                "issued_by": command.issued_by,
                "steps": [
                    {
                        "name": p.name,
                        "service": p.service,
                        "args": p.args,
                        "needs": p.needs,
                        "deadline_s": p.deadline_s,
                        "retries": p.retries,
                        "backoff_s": p.backoff_s,
                    }
                    for p in plans
                ],
            },
        )
        log.info("workflow %s submitted: %s %s", command.queue_id, name, values)

    async def _accept(self, command: Command, workflow: WorkflowState) -> None:
        await self._emit(
            EventName.ACCEPTED,
            workflow,
            {
                "command_id": command.command_id,
                "command": command.command.value,
                "issued_by": command.issued_by,
            },
        )

    async def _reject(self, rejection: Rejection) -> None:
        if rejection.command_id and self.board.answered(rejection.command_id):
            return
        log.info("rejected %s: %s: %s", rejection.command_id, rejection.field, rejection.reason)
        await self._publish_new(EventName.REJECTED, rejection.queue_id, rejection.payload())

    # -- scheduling -------------------------------------------------------------------------

    async def _advance(self, workflow: WorkflowState, now: int) -> None:
        steps = list(workflow.steps.values())
        if workflow.stop_requested:
            await self._wind_down(workflow, steps, _CANCELLED)
            if not any(s.status is StepStatus.RUNNING for s in steps):
                await self._emit(EventName.WORKFLOW_CANCELLED, workflow, {"reason": "stopped"})
            return
        failed = [s for s in steps if s.status is StepStatus.FAILED]
        if failed:
            await self._wind_down(workflow, steps, f"step {failed[0].name} failed")
            if not any(s.status is StepStatus.RUNNING for s in steps):
                reason = f"step {failed[0].name} failed: {failed[0].reason}"
                await self._emit(EventName.WORKFLOW_FAILED, workflow, {"reason": reason})
            return
        if all(s.status is StepStatus.SUCCEEDED for s in steps):
            await self._emit(EventName.WORKFLOW_SUCCEEDED, workflow, {})
            return
        if workflow.status is WorkflowStatus.PENDING:
            await self._emit(EventName.WORKFLOW_RUNNING, workflow, {})
        done = {s.name for s in steps if s.status is StepStatus.SUCCEEDED}
        for step in steps:
            if _due(step, done, now):
                await self._launch(workflow, step)
            elif step.status is StepStatus.RUNNING:
                self._check_deadline(step, now)

    async def _wind_down(self, workflow: WorkflowState, steps: list[StepState], why: str) -> None:
        """Stop running steps and cancel those not started."""
        for step in steps:
            if step.status is StepStatus.RUNNING and step.ref is not None:
                self._stop(step.ref, _CANCELLED)
            elif step.status in (StepStatus.PENDING, StepStatus.RETRYING):
                await self._emit(
                    EventName.STEP_CANCELLED, workflow, {"step": step.name, "reason": why}
                )

    def _check_deadline(self, step: StepState, now: int) -> None:
        if step.ref is None or step.ref in self._stopping:
            return
        quiet_s = (now - (step.heartbeat_at or now)) / 1000
        if quiet_s > step.plan.deadline_s:
            log.warning("step %s: no progress for %.0f s, killing it", step.name, quiet_s)
            self._stop(step.ref, f"no progress for {step.plan.deadline_s:g} s (deadline)")

    async def _launch(self, workflow: WorkflowState, step: StepState) -> None:
        attempt = step.attempt + 1
        launch = StepLaunch(
            queue_id=workflow.queue_id,
            step=step.name,
            attempt=attempt,
            service=step.plan.service,
            args=tuple(step.plan.args),
        )
        base = {"step": step.name, "attempt": attempt, "service": step.plan.service}
        try:
            ref = await self.runner.launch(launch)
        except Exception as exc:  # a launch failure is a failed attempt, never a crash
            log.exception("cannot launch %s/%s", workflow.queue_id, step.name)
            await self._emit(EventName.STEP_RUNNING, workflow, {**base, "ref": ""})
            await self._fail_attempt(workflow, step, f"cannot start: {exc}")
            return
        self._by_ref[ref] = (workflow.queue_id, step.name)
        await self._emit(EventName.STEP_RUNNING, workflow, {**base, "ref": ref})
        log.info("step %s/%s attempt %d started: %s", workflow.queue_id, step.name, attempt, ref)

    async def _fail_attempt(self, workflow: WorkflowState, step: StepState, reason: str) -> None:
        base = {"step": step.name, "attempt": step.attempt, "reason": reason}
        if step.failures >= step.plan.retries:
            await self._emit(EventName.STEP_FAILED, workflow, base)
            return
        delay = step.plan.backoff(step.failures + 1)
        retry_at = now_millis() + int(delay * 1000)
        await self._emit(
            EventName.STEP_RETRYING, workflow, {**base, "retry_at": retry_at, "delay_s": delay}
        )

    def _stop(self, ref: str, why: str) -> None:
        if ref in self._stopping:
            return
        self._stopping[ref] = why
        task = asyncio.create_task(self.runner.stop(ref, self.stop_grace_s))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    @staticmethod
    def _failure_reason(step: StepState, exit: StepExit) -> str:
        if step.outcome is EventName.ERROR:
            return str(step.result.get("reason") or exit.reason)
        if step.outcome is EventName.INTERRUPTED:
            return f"interrupted ({exit.reason})"
        return exit.reason

    # -- events -----------------------------------------------------------------------------

    async def _emit(
        self, name: EventName, workflow: WorkflowState, payload: dict[str, Any]
    ) -> None:
        await self._publish_new(name, workflow.queue_id, payload)

    async def _publish_new(self, name: EventName, queue_id: str, payload: dict[str, Any]) -> None:
        event = Event.new(name, queue_id, self.producer, payload)
        self.on_event(event)
        await self._publish(event)


#: Why a step is stopped when its workflow is cancelled or winds down.
_CANCELLED = "cancelled"


def _due(step: StepState, done: set[str], now: int) -> bool:
    """Whether a step should start now: pending with its needs met, or its retry is due."""
    if step.status is StepStatus.PENDING:
        return set(step.plan.needs) <= done
    return step.status is StepStatus.RETRYING and (step.retry_at or 0) <= now

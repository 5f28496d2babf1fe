"""Workflow state as a fold over ``queue-events``: the one model the queue-manager, the CLI and
the console share.

Feed every event, in log order, to :meth:`WorkflowBoard.apply`. Folding is idempotent (an
``event_id`` seen before changes nothing) and tolerant: events of unknown workflows or steps,
and service reports of an attempt that is not the current one, are ignored.

Who writes what:

* the queue-manager alone writes ``workflow_*`` and ``step_*`` transitions, and ``accepted``
  or ``rejected`` for each command (carrying its ``command_id``);
* services report their run (``started``, ``loading``, ``finished``, ``error``,
  ``interrupted``) tagged with the ``step`` and ``attempt`` they execute; these update a
  step's progress, heartbeat and outcome but never its status.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import msgspec

from streamforge.orchestration.workflows import PlannedStep
from streamforge.schemas import TERMINAL_EVENTS, Event, EventName

#: Events kept per workflow for its history (older ones are dropped, still counted).
HISTORY_LIMIT = 1000
#: Rejections remembered for lookups by command id (the oldest are forgotten first).
REJECTIONS_LIMIT = 10_000


class WorkflowStatus(StrEnum):
    """Where a workflow stands."""

    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Whether the workflow has ended (a ``retry`` may still revive a failed one)."""
        return self in (WorkflowStatus.SUCCEEDED, WorkflowStatus.FAILED, WorkflowStatus.CANCELLED)


class StepStatus(StrEnum):
    """Where a step stands."""

    PENDING = "pending"
    RUNNING = "running"
    RETRYING = "retrying"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def is_terminal(self) -> bool:
        """Whether the step has ended."""
        return self in (StepStatus.SUCCEEDED, StepStatus.FAILED, StepStatus.CANCELLED)


_WORKFLOW_STATUS = {
    EventName.WORKFLOW_RUNNING: WorkflowStatus.RUNNING,
    EventName.WORKFLOW_SUCCEEDED: WorkflowStatus.SUCCEEDED,
    EventName.WORKFLOW_FAILED: WorkflowStatus.FAILED,
    EventName.WORKFLOW_CANCELLED: WorkflowStatus.CANCELLED,
}
_STEP_STATUS = {
    EventName.STEP_PENDING: StepStatus.PENDING,
    EventName.STEP_RUNNING: StepStatus.RUNNING,
    EventName.STEP_RETRYING: StepStatus.RETRYING,
    EventName.STEP_SUCCEEDED: StepStatus.SUCCEEDED,
    EventName.STEP_FAILED: StepStatus.FAILED,
    EventName.STEP_CANCELLED: StepStatus.CANCELLED,
}
_SERVICE_REPORTS = (
    EventName.STARTED,
    EventName.LOADING,
    EventName.FINISHED,
    EventName.ERROR,
    EventName.INTERRUPTED,
)
_WORKFLOW, _STEP, _REPORT = "workflow", "step", "report"
#: How each event bears on a workflow (one dict lookup on the hot path).
_KIND = {
    **dict.fromkeys(_WORKFLOW_STATUS, _WORKFLOW),
    **dict.fromkeys(_STEP_STATUS, _STEP),
    **dict.fromkeys(_SERVICE_REPORTS, _REPORT),
}


@dataclass
class StepState:
    """One step of a workflow.

    Attributes:
        plan: The step as submitted (service, options, needs, deadline, retries).
        status: Where it stands.
        attempt: The current (or last) attempt, 0 before the first.
        failures: Failed attempts since the step last became pending.
        ref: The runner's reference to the current attempt's process.
        progress: The last reported fraction done of the current attempt.
        records_written: The last reported count of records written.
        message: The last non-empty message reported.
        reason: Why the last attempt failed, or why the step failed or was cancelled.
        heartbeat_at: Epoch ms of the newest sign of life of the current attempt.
        retry_at: Epoch ms when a retrying step's next attempt is due.
        started_at: Epoch ms the current attempt started.
        ended_at: Epoch ms the step ended.
        outcome: The service's terminal event of the current attempt, if one arrived.
        result: That event's payload.
    """

    plan: PlannedStep
    status: StepStatus = StepStatus.PENDING
    attempt: int = 0
    failures: int = 0
    ref: str | None = None
    progress: float | None = None
    records_written: int = 0
    message: str = ""
    reason: str = ""
    heartbeat_at: int | None = None
    retry_at: int | None = None
    started_at: int | None = None
    ended_at: int | None = None
    outcome: EventName | None = None
    result: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        """The step's name."""
        return self.plan.name

    def transition(self, event: Event) -> None:
        """Apply a ``step_*`` transition of the queue-manager."""
        status = _STEP_STATUS[event.event]
        payload = event.payload
        self.status = status
        if status is StepStatus.PENDING:
            self.failures = 0
            self.reason = ""
            self.ended_at = None
            self.retry_at = None
        elif status is StepStatus.RUNNING:
            attempt = _int(payload.get("attempt"))
            if attempt is not None and attempt != self.attempt:
                self.attempt = attempt
                self.progress = None
                self.records_written = 0
                self.message = ""
                self.outcome = None
                self.result = {}
            self.ref = _text(payload.get("ref")) or None
            self.started_at = self.heartbeat_at = event.timestamp
            self.retry_at = None
        elif status is StepStatus.RETRYING:
            self.failures += 1
            self.reason = _text(payload.get("reason"))
            self.retry_at = _int(payload.get("retry_at"))
        else:
            self.ended_at = event.timestamp
            if status is StepStatus.SUCCEEDED:
                self.progress = 1.0
            else:
                self.reason = _text(payload.get("reason")) or self.reason
                if status is StepStatus.FAILED:
                    self.failures += 1

    def report(self, event: Event) -> None:
        """Apply a service's report on the current attempt."""
        if self.heartbeat_at is None or event.timestamp > self.heartbeat_at:
            self.heartbeat_at = event.timestamp
        payload = event.payload
        progress = payload.get("progress")
        if progress.__class__ is float or progress.__class__ is int:
            self.progress = 0.0 if progress < 0 else 1.0 if progress > 1 else float(progress)
        records = payload.get("records_written")
        if records.__class__ is int and records >= 0:
            self.records_written = records
        message = payload.get("message")
        if message and message.__class__ is str:
            self.message = message
        if event.event in TERMINAL_EVENTS:
            self.outcome = event.event
            self.result = dict(payload)
            if event.event is EventName.FINISHED:
                self.progress = 1.0

    def view(self) -> dict[str, Any]:
        """A JSON-able summary."""
        return {
            "name": self.name,
            "service": self.plan.service,
            "needs": list(self.plan.needs),
            "status": self.status.value,
            "attempt": self.attempt,
            "failures": self.failures,
            "progress": self.progress,
            "records_written": self.records_written,
            "message": self.message,
            "reason": self.reason,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "retry_at": self.retry_at,
        }


@dataclass
class WorkflowState:
    """One workflow, its steps and its recent events."""

    queue_id: str
    workflow: str
    params: dict[str, Any]
    steps: dict[str, StepState]
    submitted_at: int
    status: WorkflowStatus = WorkflowStatus.PENDING
    reason: str = ""
    started_at: int | None = None
    ended_at: int | None = None
    updated_at: int = 0
    #: Set once a ``stop`` was accepted; cleared by a ``retry``.
    stop_requested: bool = False
    event_count: int = 0
    history: deque[Event] = field(default_factory=lambda: deque(maxlen=HISTORY_LIMIT))

    @property
    def progress(self) -> float:
        """Fraction done over all steps (a step without a figure counts as 0)."""
        if not self.steps:
            return 0.0
        return sum(step.progress or 0.0 for step in self.steps.values()) / len(self.steps)

    def eta_ms(self, now_ms: int) -> int | None:
        """Milliseconds left at the average pace so far; ``None`` until there is a pace to go
        by (1 % done) or once done."""
        progress = self.progress
        if self.started_at is None or not 0.01 <= progress < 1:
            return None
        return int((now_ms - self.started_at) * (1 - progress) / progress)

    @property
    def records_written(self) -> int:
        """Records written by the steps' current attempts, summed."""
        return sum(step.records_written for step in self.steps.values())

    def apply(self, event: Event) -> None:
        """Fold one event of this workflow in (the board has checked it is new)."""
        self.event_count += 1
        self.history.append(event)
        if event.timestamp > self.updated_at:
            self.updated_at = event.timestamp
        kind = _KIND.get(event.event)
        if kind is _REPORT:
            step = self.steps.get(event.payload.get("step"))  # type: ignore[arg-type]
            if (
                step is not None
                and step.status is StepStatus.RUNNING
                and event.payload.get("attempt") == step.attempt
            ):
                step.report(event)
        elif kind is _STEP:
            step = self.steps.get(event.payload.get("step"))  # type: ignore[arg-type]
            if step is not None:
                step.transition(event)
        elif kind is _WORKFLOW:
            self._transition(event)
        elif event.event is EventName.ACCEPTED:
            command = event.payload.get("command")
            if command == "stop":
                self.stop_requested = True
            elif command == "retry":
                self.stop_requested = False

    def _transition(self, event: Event) -> None:
        self.status = _WORKFLOW_STATUS[event.event]
        if self.status is WorkflowStatus.RUNNING:
            self.started_at = self.started_at or event.timestamp
            self.ended_at = None
            self.reason = ""
        else:
            self.ended_at = event.timestamp
            self.reason = _text(event.payload.get("reason"))

    def view(self) -> dict[str, Any]:
        """A JSON-able summary (what the store keeps and ``--json`` prints)."""
        return {
            "queue_id": self.queue_id,
            "workflow": self.workflow,
            "params": self.params,
            "status": self.status.value,
            "reason": self.reason,
            "progress": round(self.progress, 6),
            "records_written": self.records_written,
            "submitted_at": self.submitted_at,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
            "updated_at": self.updated_at,
            "steps": [step.view() for step in self.steps.values()],
        }


class WorkflowBoard:
    """Every workflow on the event log, in submission order, and the commands answered."""

    def __init__(self) -> None:
        self._workflows: dict[str, WorkflowState] = {}
        self._seen: set[str] = set()
        self._answered: set[str] = set()
        self._rejections: OrderedDict[str, Event] = OrderedDict()
        #: Timestamp (epoch ms) of the newest event applied.
        self.last_event_at: int | None = None

    def apply(self, event: Event) -> WorkflowState | None:
        """Fold one event in; return the workflow it changed (``None``: no change)."""
        if event.event_id in self._seen:
            return None
        self._seen.add(event.event_id)
        if self.last_event_at is None or event.timestamp > self.last_event_at:
            self.last_event_at = event.timestamp
        if event.event in (EventName.ACCEPTED, EventName.REJECTED):
            self._answer(event)
        workflow = self._workflows.get(event.queue_id)
        if workflow is None:
            if event.event is not EventName.WORKFLOW_SUBMITTED:
                return None
            workflow = self._submit(event)
            if workflow is None:
                return None
        workflow.apply(event)
        return workflow

    def answered(self, command_id: str) -> bool:
        """Whether the command was accepted or rejected already."""
        return command_id in self._answered

    def rejection(self, command_id: str) -> Event | None:
        """The ``rejected`` event answering a command, if it was rejected (recent ones)."""
        return self._rejections.get(command_id)

    def get(self, queue_id: str) -> WorkflowState | None:
        """The workflow of ``queue_id``, if submitted."""
        return self._workflows.get(queue_id)

    def __iter__(self) -> Iterator[WorkflowState]:
        return iter(self._workflows.values())

    def __len__(self) -> int:
        return len(self._workflows)

    def _answer(self, event: Event) -> None:
        command_id = _text(event.payload.get("command_id"))
        if not command_id:
            return
        self._answered.add(command_id)
        if event.event is EventName.REJECTED:
            self._rejections[command_id] = event
            if len(self._rejections) > REJECTIONS_LIMIT:
                self._rejections.popitem(last=False)

    def _submit(self, event: Event) -> WorkflowState | None:
        payload = event.payload
        try:
            plans = msgspec.convert(payload.get("steps"), list[PlannedStep])
        except msgspec.ValidationError:
            return None  # not written by a queue-manager: ignore it
        params = payload.get("params")
        workflow = WorkflowState(
            queue_id=event.queue_id,
            workflow=_text(payload.get("workflow")),
            params=dict(params) if isinstance(params, Mapping) else {},
            steps={plan.name: StepState(plan) for plan in plans},
            submitted_at=event.timestamp,
        )
        self._workflows[event.queue_id] = workflow
        return workflow


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None

"""The workflow fold: the same events always give the same state, whatever repeats or lags."""

from __future__ import annotations

import json
from typing import Any

from streamforge.orchestration.state import (
    StepStatus,
    WorkflowBoard,
    WorkflowStatus,
)
from streamforge.schemas import Event, EventName

QM = "queue-manager__host-1"
QUEUE = "bf-1"


def event(name: EventName, producer: str = QM, queue_id: str = QUEUE, **payload: Any) -> Event:
    return Event.new(name, queue_id, producer, payload)


def submitted(queue_id: str = QUEUE) -> Event:
    steps = [
        {"name": "load", "service": "loader-history", "args": ["--symbol", "BTCUSDT"]},
        {"name": "persist", "service": "store-connector", "args": [], "retries": 1},
    ]
    return event(
        EventName.WORKFLOW_SUBMITTED,
        queue_id=queue_id,
        command_id="c-1",
        workflow="backfill",
        params={"symbol": "BTCUSDT"},
        steps=steps,
    )


def report(name: EventName, step: str, attempt: int, **payload: Any) -> Event:
    return event(name, "loader-history__host-7", step=step, attempt=attempt, **payload)


def test_a_submitted_workflow_starts_pending_with_pending_steps() -> None:
    board = WorkflowBoard()

    board.apply(submitted())

    workflow = board.get(QUEUE)
    assert workflow is not None
    assert workflow.status is WorkflowStatus.PENDING
    assert workflow.workflow == "backfill"
    assert [(s.name, s.status) for s in workflow.steps.values()] == [
        ("load", StepStatus.PENDING),
        ("persist", StepStatus.PENDING),
    ]
    assert workflow.steps["persist"].plan.retries == 1


def test_service_reports_of_the_current_attempt_move_progress() -> None:
    board = WorkflowBoard()
    board.apply(submitted())
    board.apply(event(EventName.WORKFLOW_RUNNING))
    board.apply(event(EventName.STEP_RUNNING, step="load", attempt=1, ref="local:1:2"))

    board.apply(report(EventName.LOADING, "load", 1, progress=0.25, records_written=500))

    workflow = board.get(QUEUE)
    assert workflow is not None
    load = workflow.steps["load"]
    assert (load.status, load.attempt, load.ref) == (StepStatus.RUNNING, 1, "local:1:2")
    assert (load.progress, load.records_written) == (0.25, 500)
    assert workflow.progress == 0.125  # one step of two at 25 %
    assert workflow.records_written == 500


def test_a_late_report_of_an_earlier_attempt_is_ignored() -> None:
    board = WorkflowBoard()
    board.apply(submitted())
    board.apply(event(EventName.STEP_RUNNING, step="load", attempt=1, ref="a"))
    board.apply(event(EventName.STEP_RETRYING, step="load", attempt=1, reason="boom", retry_at=5))
    board.apply(event(EventName.STEP_RUNNING, step="load", attempt=2, ref="b"))

    board.apply(report(EventName.LOADING, "load", 1, progress=0.9))
    board.apply(report(EventName.FINISHED, "load", 1))

    workflow = board.get(QUEUE)
    assert workflow is not None
    load = workflow.steps["load"]
    assert (load.attempt, load.failures, load.ref) == (2, 1, "b")
    assert load.progress is None
    assert load.outcome is None


def test_the_service_outcome_is_kept_without_changing_the_step_status() -> None:
    board = WorkflowBoard()
    board.apply(submitted())
    board.apply(event(EventName.STEP_RUNNING, step="load", attempt=1, ref="a"))

    board.apply(report(EventName.ERROR, "load", 1, reason="HTTP 500"))

    workflow = board.get(QUEUE)
    assert workflow is not None
    load = workflow.steps["load"]
    assert load.status is StepStatus.RUNNING  # only the queue-manager moves steps
    assert load.outcome is EventName.ERROR
    assert load.result["reason"] == "HTTP 500"


def test_duplicates_change_nothing_and_replaying_the_log_gives_the_same_view() -> None:
    log = [
        submitted(),
        event(EventName.WORKFLOW_RUNNING),
        event(EventName.STEP_RUNNING, step="load", attempt=1, ref="a"),
        report(EventName.LOADING, "load", 1, progress=0.5, records_written=10),
        event(EventName.STEP_SUCCEEDED, step="load", attempt=1),
        event(EventName.STEP_RUNNING, step="persist", attempt=1, ref="b"),
        event(EventName.STEP_FAILED, step="persist", attempt=1, reason="disk full"),
        event(EventName.WORKFLOW_FAILED, reason="step persist failed: disk full"),
    ]
    once, twice = WorkflowBoard(), WorkflowBoard()
    for item in log:
        once.apply(item)
    for item in log + log[::-1]:
        twice.apply(item)

    first, second = once.get(QUEUE), twice.get(QUEUE)
    assert first is not None and second is not None
    assert first.view() == second.view()
    assert first.status is WorkflowStatus.FAILED
    assert first.reason == "step persist failed: disk full"
    assert first.steps["persist"].reason == "disk full"
    assert first.steps["load"].progress == 1.0
    json.dumps(first.view())  # the view is what the store keeps: it must be JSON


def test_answers_are_remembered_by_command_id() -> None:
    board = WorkflowBoard()
    rejected = event(
        EventName.REJECTED, queue_id="x", command_id="c-9", field="payload.workflow", reason="no"
    )

    board.apply(event(EventName.ACCEPTED, command_id="c-1", command="start"))
    board.apply(rejected)

    assert board.answered("c-1") and board.answered("c-9")
    assert not board.answered("c-2")
    assert board.rejection("c-9") == rejected
    assert len(board) == 0  # answers alone make no workflow


def test_an_accepted_stop_is_part_of_the_state_and_a_retry_clears_it() -> None:
    board = WorkflowBoard()
    board.apply(submitted())

    board.apply(event(EventName.ACCEPTED, command_id="c-2", command="stop"))
    workflow = board.get(QUEUE)
    assert workflow is not None and workflow.stop_requested

    board.apply(event(EventName.WORKFLOW_CANCELLED, reason="stopped"))
    board.apply(event(EventName.ACCEPTED, command_id="c-3", command="retry"))
    board.apply(event(EventName.WORKFLOW_RUNNING, retry=True))
    assert not workflow.stop_requested
    assert workflow.status is WorkflowStatus.RUNNING
    assert workflow.reason == ""


def test_events_of_unknown_workflows_and_malformed_submissions_are_ignored() -> None:
    board = WorkflowBoard()

    assert board.apply(event(EventName.STEP_RUNNING, queue_id="ghost", step="x")) is None
    assert board.apply(event(EventName.WORKFLOW_SUBMITTED, queue_id="bad", steps="nope")) is None
    assert len(board) == 0

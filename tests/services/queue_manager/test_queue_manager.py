"""The queue-manager over real Kafka, running real step processes through the local runner."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from streamforge.bus import BusProducer
from streamforge.bus.topics import CONTROL
from streamforge.config import Settings
from streamforge.orchestration.state import StepStatus, WorkflowStatus
from streamforge.schemas import Command, CommandName, EventName
from streamforge.storage import open_store
from tests.services.queue_manager.helpers import Operator, QueueManagerProcess, gone, pid_of

pytestmark = pytest.mark.kafka


async def test_a_workflow_runs_its_steps_in_order_to_success(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    with QueueManagerProcess(settings, tmp_path):
        async with Operator(settings) as op:
            answer = await op.start("chain", "chain-1", seconds=1)
            workflow = await op.until_done("chain-1")

    assert answer.event is EventName.ACCEPTED
    assert workflow.status is WorkflowStatus.SUCCEEDED
    first, second = workflow.steps["first"], workflow.steps["second"]
    assert first.status is second.status is StepStatus.SUCCEEDED
    assert first.ended_at is not None and second.started_at is not None
    assert second.started_at >= first.ended_at, "second needs first"
    assert first.records_written > 0 and first.progress == 1.0
    # The view of the workflow is in the store too, for analytics.
    with open_store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        view = store.workflow("chain-1")
    assert view is not None and view["status"] == "succeeded"


async def test_a_step_that_stops_reporting_is_killed_and_retried(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    with QueueManagerProcess(settings, tmp_path):
        async with Operator(settings) as op:
            await op.start("hang", "hang-1")
            first = await op.until("hang-1", lambda w: w.steps["stuck"].attempt == 2, wait_s=60)
            first_reason = first.steps["stuck"].reason
            workflow = await op.until_done("hang-1")

    retried = [e for e in workflow.history if e.event is EventName.STEP_RETRYING]
    assert len(retried) == 1
    assert "deadline" in first_reason
    stuck = workflow.steps["stuck"]
    assert stuck.status is StepStatus.FAILED and stuck.attempt == 2
    assert workflow.status is WorkflowStatus.FAILED
    assert "step stuck failed" in workflow.reason and "deadline" in workflow.reason
    assert await gone(pid_of(stuck.ref)), "the hung process was killed"


async def test_a_failed_workflow_can_be_retried(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    with QueueManagerProcess(settings, tmp_path):
        async with Operator(settings) as op:
            await op.start("flaky", "flaky-1")
            failed = await op.until_done("flaky-1")
            reason = failed.reason
            answer = await op.send(CommandName.RETRY, "flaky-1")
            again = await op.until(
                "flaky-1",
                lambda w: w.steps["boom"].attempt == 2 and w.status.is_terminal,
            )

    assert "simulated failure" in reason
    assert answer.event is EventName.ACCEPTED
    assert again.status is WorkflowStatus.FAILED


async def test_stop_cancels_a_workflow_and_ends_its_processes(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    with QueueManagerProcess(settings, tmp_path):
        async with Operator(settings) as op:
            await op.start("slow", "slow-1")
            running = await op.until(
                "slow-1",
                lambda w: all(s.status is StepStatus.RUNNING for s in w.steps.values()),
            )
            pids = [pid_of(step.ref) for step in running.steps.values()]
            answer = await op.send(CommandName.STOP, "slow-1")
            workflow = await op.until_done("slow-1")
            again = await op.send(CommandName.STOP, "slow-1")

    assert answer.event is EventName.ACCEPTED
    assert workflow.status is WorkflowStatus.CANCELLED
    assert {s.status for s in workflow.steps.values()} == {StepStatus.CANCELLED}
    assert [await gone(pid) for pid in pids] == [True, True]
    assert again.event is EventName.REJECTED
    assert "already cancelled" in again.payload["reason"]


async def test_a_killed_queue_manager_rebuilds_its_state_and_the_workflow_completes(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    manager = QueueManagerProcess(settings, tmp_path)
    async with Operator(settings) as op:
        with manager:
            await op.start("chain", "chain-k", seconds=6)
            before = await op.until("chain-k", lambda w: (w.steps["first"].progress or 0) > 0.2)
            first_ref = before.steps["first"].ref
            manager.kill()  # SIGKILL mid-workflow: the step process carries on alone
        await asyncio.sleep(1)
        with QueueManagerProcess(settings, tmp_path):
            workflow = await op.until_done("chain-k", wait_s=120)

    assert workflow.status is WorkflowStatus.SUCCEEDED
    first = workflow.steps["first"]
    assert first.attempt == 1 and first.ref == first_ref, "adopted, not started again"
    assert workflow.steps["second"].attempt == 1
    submitted = [e for e in workflow.history if e.event is EventName.WORKFLOW_SUBMITTED]
    assert len(submitted) == 1


async def test_invalid_commands_are_rejected_with_reasons_and_nothing_crashes(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    with QueueManagerProcess(settings, tmp_path) as manager:
        async with Operator(settings) as op:
            unknown = await op.start("nope", "bad-1")
            symbol = await op.send(
                CommandName.START,
                "bad-2",
                {"workflow": "backfill", "params": {"symbol": "BTC/USDT", "from": 1, "to": 2}},
            )
            backwards = await op.send(
                CommandName.START,
                "bad-3",
                {
                    "workflow": "backfill",
                    "params": {"symbol": "BTCUSDT", "from": "2024-08-31", "to": "2024-08-01"},
                },
            )
            producer = BusProducer(settings)
            async with producer:
                await producer.send(settings.topic(CONTROL), b"{not json", key=b"bad-4")
            malformed = await op.until_rejected("bad-4")
            still_there = await op.start("chain", "chain-after", seconds=0.5)
            done = await op.until_done("chain-after")
        assert manager.process is not None and manager.process.poll() is None

    assert unknown.payload["field"] == "payload.workflow"
    assert "unknown workflow 'nope'" in unknown.payload["reason"]
    assert symbol.payload["field"] == "params.symbol"
    assert backwards.payload["field"] == "params.from"
    assert "before to" in backwards.payload["reason"]
    assert malformed.payload["field"] == "command"
    assert "JSON" in malformed.payload["reason"]
    assert still_there.event is EventName.ACCEPTED
    assert done.status is WorkflowStatus.SUCCEEDED


async def test_a_repeated_command_id_takes_effect_once(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    command = Command.new(
        CommandName.START,
        "dup-1",
        target="queue-manager",
        payload={"workflow": "chain", "params": {"seconds": 0.5}},
    )
    with QueueManagerProcess(settings, tmp_path):
        async with Operator(settings) as op:
            await op.client.send(command)
            await op.client.send(command)
            workflow = await op.until_done("dup-1")
            await asyncio.sleep(2)  # time for a second effect, were there one
            await op.until_done("dup-1")

    names = [e.event for e in workflow.history]
    assert names.count(EventName.WORKFLOW_SUBMITTED) == 1
    assert names.count(EventName.STEP_RUNNING) == 2  # first and second, once each
    assert workflow.status is WorkflowStatus.SUCCEEDED

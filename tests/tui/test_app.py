"""The console against a real broker and a real queue-manager, driven with ``App.run_test``.

The queue-manager runs as a child process (as under ``streamforge up``) and starts real step
processes: a backfill loads from the exchange simulator, the dummy workflows of
``tests/services/queue_manager/flows.yaml`` run ``dummy-service`` steps.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from textual.notifications import SeverityLevel
from textual.widgets import Select

from streamforge.bus import Batch, BusConsumer, ConsumerOptions
from streamforge.bus.topics import CONTROL
from streamforge.config import Settings, load_settings
from streamforge.orchestration.params import parse_time
from streamforge.orchestration.workflows import WorkflowCatalog
from streamforge.schemas import Codec, Command, CommandName
from streamforge.simulator import SimConfig, SimulatorThread
from tests.services.queue_manager.helpers import FLOWS, QueueManagerProcess
from tests.tui.driving import (
    cell,
    fill_backfill,
    jobs_of,
    open_form,
    status_of,
    type_into,
    waiter,
)
from tui.app import StreamForgeApp
from tui.config import ConsoleConfig
from tui.feed import Backoff, EventFeed, LinkState
from tui.screens import HelpScreen, JobsScreen
from tui.widgets import EventHistory, StatusBar, StepsTable, WorkflowsTable

SIZE = (150, 40)
JOBS_FIRST = ConsoleConfig(start_screen="jobs")


class RecordingApp(StreamForgeApp):
    """The console on its jobs screen, keeping every notification it shows."""

    def __init__(self, settings: Settings, **options: Any) -> None:
        super().__init__(settings, config=JOBS_FIRST, **options)
        self.notes: list[tuple[str, str, SeverityLevel]] = []

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        self.notes.append((title, message, severity))
        super().notify(message, title=title, severity=severity, timeout=timeout, markup=markup)

    def titles(self) -> list[str]:
        return [title for title, _, _ in self.notes]


@pytest.fixture
def simulator() -> Iterator[SimulatorThread]:
    """An exchange with a short synthetic history of BTCUSDT."""
    config = SimConfig(seed=5, symbols=("BTCUSDT",), trade_rate=0.2, genesis=date(2024, 7, 31))
    with SimulatorThread(config) as sim:
        yield sim


async def commands_sent(settings: Settings) -> list[Command]:
    """Every command on ``queue-control`` so far."""
    found: list[Command] = []

    async def keep(batch: Batch[Command]) -> None:
        found.extend(batch.values)

    options = ConsumerOptions(group_id=None, from_beginning=True, poll_timeout_ms=100)
    codec: Codec[Command] = Codec(Command)
    async with BusConsumer(settings, [settings.topic(CONTROL)], codec, options=options) as reader:
        for tp, end in (await reader.end_offsets()).items():
            while await reader.position(tp) < end:
                await reader.poll(keep)
    return found


@pytest.mark.kafka
async def test_a_backfill_started_from_the_form_is_followed_to_succeeded(
    settings: Settings, tmp_path: Path, simulator: SimulatorThread
) -> None:
    manager = QueueManagerProcess(settings, tmp_path)
    manager.env["STREAMFORGE_BINANCE_REST_URL"] = simulator.rest_url
    manager.env["STREAMFORGE_BINANCE_DATA_URL"] = simulator.data_url
    app = RecordingApp(settings)
    with manager:
        async with app.run_test(size=SIZE) as pilot:
            until = waiter(pilot)
            await until(lambda: app.link.state is LinkState.CONNECTED, "the broker link")
            await open_form(pilot)
            await fill_backfill(pilot)
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, JobsScreen), "the start to be accepted")

            screen = jobs_of(app)
            table = screen.query_one(WorkflowsTable)
            await until(lambda: table.selected_queue_id is not None, "the new workflow selected")
            queue_id = table.selected_queue_id
            assert queue_id is not None and queue_id.startswith("backfill-btcusdt-")
            assert ("start accepted", f"{queue_id} by queue-manager__") in [
                (title, message.split("queue-manager__")[0] + "queue-manager__")
                for title, message, _ in app.notes
            ]

            shown: list[str] = []

            def succeeded() -> bool:
                shown.append(cell(table, queue_id, "progress"))
                return cell(table, queue_id, "status") == "succeeded"

            await until(succeeded, "the backfill to succeed")
            assert shown[-1].endswith("100 %")
            assert int(cell(table, queue_id, "records").replace(",", "")) > 0
            steps = screen.query_one(StepsTable)
            for step in ("load", "persist"):
                assert cell(steps, step, "status") == "succeeded"
                assert cell(steps, step, "progress").endswith("100 %")
                assert cell(steps, step, "attempt") == "1/4"
            history = screen.query_one(EventHistory)
            await until(lambda: history.row_count > 0, "the history")
            events = [history.get_cell(key, "event").plain for key in history.rows]
            assert events[0] == "workflow_submitted"
            assert events[-1] == "workflow_succeeded"

            # The same queue id again: the queue-manager rejects it and the form says why.
            form = await open_form(pilot)
            await fill_backfill(pilot)
            await type_into(pilot, "queue-id", queue_id)
            await pilot.press("enter")
            await until(lambda: status_of(form).startswith("rejected"), "the rejection")
            assert status_of(form) == (
                "rejected: queue_id: already used by a succeeded backfill workflow"
            )

        start, again = [c for c in await commands_sent(settings) if c.command is CommandName.START]
    assert (start.queue_id, start.target, start.issued_by) == (queue_id, "queue-manager", "console")
    assert start.payload == {
        "workflow": "backfill",
        "params": {
            "symbol": "BTCUSDT",
            "interval": "1m",
            "from": parse_time("2024-08-01T00:00"),
            "to": parse_time("2024-08-01T02:00"),
        },
    }
    assert again.queue_id == queue_id


@pytest.mark.kafka
async def test_stop_ping_and_retry_of_a_workflow_of_dummy_steps(
    settings: Settings, tmp_path: Path
) -> None:
    app = RecordingApp(settings, catalog=WorkflowCatalog.load([FLOWS]), ping_timeout=30.0)
    with QueueManagerProcess(settings, tmp_path):
        async with app.run_test(size=SIZE) as pilot:
            until = waiter(pilot)
            form = await open_form(pilot)
            form.query_one("#workflow", Select).value = "slow"
            await pilot.pause()
            await type_into(pilot, "queue-id", "slow-1")
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, JobsScreen), "the start to be accepted")
            screen = jobs_of(app)
            table, steps = screen.query_one(WorkflowsTable), screen.query_one(StepsTable)

            def step_reports() -> bool:
                return cell(steps, "left", "progress") not in ("", "-")

            await until(step_reports, "the steps to report progress")
            await pilot.press("p")
            await until(lambda: "pong from slow-1" in app.titles(), "a pong")

            await pilot.press("s", "y")
            await until(lambda: cell(table, "slow-1", "status") == "cancelled", "the stop")
            assert "stop accepted" in app.titles()
            assert cell(steps, "left", "status") == "cancelled"
            assert cell(table, "slow-1", "reason") == "stopped"

            await pilot.press("r", "y")
            await until(lambda: cell(steps, "left", "attempt") == "2/4", "a second attempt")
            assert "retry accepted" in app.titles()
            assert cell(table, "slow-1", "status") == "running"
            await pilot.press("s", "y")
            await until(lambda: cell(table, "slow-1", "status") == "cancelled", "the last stop")


@pytest.mark.kafka
async def test_a_failed_workflow_shows_why(settings: Settings, tmp_path: Path) -> None:
    app = RecordingApp(settings, catalog=WorkflowCatalog.load([FLOWS]))
    with QueueManagerProcess(settings, tmp_path):
        async with app.run_test(size=SIZE) as pilot:
            until = waiter(pilot)
            form = await open_form(pilot)
            form.query_one("#workflow", Select).value = "flaky"
            await pilot.pause()
            await type_into(pilot, "queue-id", "flaky-1")
            await pilot.press("enter")
            await until(lambda: isinstance(app.screen, JobsScreen), "the start to be accepted")
            table = jobs_of(app).query_one(WorkflowsTable)
            await until(lambda: cell(table, "flaky-1", "status") == "failed", "the failure")
            assert cell(table, "flaky-1", "reason").startswith("step boom failed: simulated")
            steps = jobs_of(app).query_one(StepsTable)
            assert cell(steps, "boom", "detail").startswith("simulated failure")


@pytest.mark.kafka
async def test_the_status_bar_reports_the_event_feed(settings: Settings) -> None:
    app = RecordingApp(settings)
    async with app.run_test(size=SIZE) as pilot:
        until = waiter(pilot)
        status = jobs_of(app).query_one(StatusBar)
        await until(lambda: status.has_class("-connected"), "the broker link")
        await until(lambda: "events " in status.render().plain, "the event feed's figures")
        shown = status.render().plain
        assert shown.startswith("● broker connected  │  events ")
        assert "/s · lag 0 · " in shown
        assert shown.endswith("0 reconnects")


async def test_without_a_broker_the_console_says_so_and_still_works() -> None:
    settings = load_settings(env={"STREAMFORGE_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    feed = EventFeed(settings, backoff=Backoff(initial=0.1, maximum=0.2))
    app = RecordingApp(settings, feed=feed, answer_timeout=0.5)
    async with app.run_test(size=SIZE) as pilot:
        until = waiter(pilot)
        status = jobs_of(app).query_one(StatusBar)
        await until(lambda: status.has_class("-disconnected"), "the link to be reported down")
        shown = status.render().plain
        assert "broker disconnected: cannot reach Kafka at 127.0.0.1:1" in shown
        assert "events ○ cannot reach Kafka at 127.0.0.1:1" in shown

        screen = jobs_of(app)
        assert screen.check_action("ping", ()) is None, "nothing to ping without a workflow"
        await pilot.press("p", "s", "r")
        assert app.notes == []

        form = await open_form(pilot)
        await fill_backfill(pilot)
        await pilot.press("enter")
        await until(lambda: status_of(form).startswith("not sent"), "the failure to send")
        assert status_of(form) == "not sent: not connected to Kafka"
        await pilot.press("escape")

        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen), "the help dialog")
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, JobsScreen), "the help dialog to close")

        await pilot.press("q")
    assert app.return_code == 0

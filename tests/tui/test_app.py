"""The console against a real broker, driven with ``App.run_test``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest
from textual.notifications import SeverityLevel
from textual.pilot import Pilot

from streamforge.config import Settings, load_settings
from streamforge.services import ServiceHost
from streamforge.services.dummy import DummyService
from streamforge.services.host import EXIT_FINISHED, EXIT_INTERRUPTED
from tests.tui.waiting import eventually
from tui.app import StreamForgeApp
from tui.feed import Backoff, EventFeed, LinkState
from tui.screens import HelpScreen, JobsScreen
from tui.widgets import EventHistory, JobsTable, StatusBar

SIZE = (140, 40)


class RecordingApp(StreamForgeApp):
    """The console, keeping every notification it shows."""

    def __init__(
        self, settings: Settings, *, feed: EventFeed | None = None, ping_timeout: float = 5.0
    ) -> None:
        super().__init__(settings, feed=feed, ping_timeout=ping_timeout)
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


def run_dummy(settings: Settings, queue_id: str, service: DummyService) -> asyncio.Task[int]:
    host = ServiceHost(service, settings, queue_id, loading_interval=0.2, handle_signals=False)
    return asyncio.create_task(host.run())


def cell(app: StreamForgeApp, queue_id: str, column: str) -> str:
    table = app.screen.query_one(JobsTable)
    if queue_id not in table.rows:
        return ""
    return table.get_cell(queue_id, column).plain


def waiter(pilot: Pilot[None]) -> Callable[[Callable[[], bool], str], Awaitable[None]]:
    async def until(condition: Callable[[], bool], what: str) -> None:
        await eventually(condition, what, pause=lambda: pilot.pause(0.05))

    return until


@pytest.mark.kafka
async def test_a_loading_job_shows_up_and_finishes_at_100_percent_with_its_history(
    settings: Settings,
) -> None:
    app = RecordingApp(settings, ping_timeout=1.0)
    async with app.run_test(size=SIZE) as pilot:
        until = waiter(pilot)
        await until(lambda: app.link.state is LinkState.CONNECTED, "the broker link")
        running = run_dummy(settings, "q-load", DummyService(simulate_loading=True, duration=2))
        await until(lambda: cell(app, "q-load", "status") != "", "the job's row")
        assert cell(app, "q-load", "service") == "dummy-service"
        await until(lambda: cell(app, "q-load", "status") == "finished", "the job to finish")
        assert await asyncio.wait_for(running, 60) == EXIT_FINISHED
        assert cell(app, "q-load", "progress").endswith("100 %")
        assert int(cell(app, "q-load", "records").replace(",", "")) > 0

        history = app.screen.query_one(EventHistory)
        job = app.board.get("q-load")
        assert job is not None
        await until(lambda: history.row_count == job.event_count, "the whole history")
        assert history.queue_id == "q-load"
        names = [history.get_cell(key, "event").plain for key in history.rows]
        assert names[0] == "started"
        assert names[-1] == "finished"
        assert "loading" in names
        assert list(history.rows) == [event.event_id for event in job.history]

        status = app.screen.query_one(StatusBar)
        await until(lambda: status.last_event_age is not None, "the last event's age")
        assert status.has_class("-connected")
        shown = status.render().plain
        assert "broker connected" in shown
        assert "events/s" in shown
        assert "last event" in shown

        await pilot.press("p")
        await until(lambda: any("timed out" in title for title, _, _ in app.notes), "a timeout")
        assert ("ping timed out", "no answer from q-load within 1 s", "warning") in app.notes


@pytest.mark.kafka
async def test_ping_shows_the_pong_and_s_stops_the_selected_job(settings: Settings) -> None:
    app = RecordingApp(settings, ping_timeout=60.0)
    async with app.run_test(size=SIZE) as pilot:
        until = waiter(pilot)
        running = run_dummy(settings, "q-stop", DummyService())
        await until(lambda: cell(app, "q-stop", "status") == "running", "the job to run")
        table = app.screen.query_one(JobsTable)
        table.move_cursor(row=table.get_row_index("q-stop"))
        assert table.selected_queue_id == "q-stop"

        await pilot.press("p")
        await until(lambda: any(title.startswith("pong") for title, _, _ in app.notes), "a pong")
        (pong,) = [(t, m) for t, m, _ in app.notes if t.startswith("pong")]
        assert pong[0] == "pong from q-stop"
        assert pong[1].startswith("dummy-service__")
        assert ": running (after " in pong[1]

        await pilot.press("s")
        assert await asyncio.wait_for(running, 60) == EXIT_INTERRUPTED
        await until(lambda: cell(app, "q-stop", "status") == "interrupted", "interrupted")
        assert ("command sent", "stop sent to q-stop", "information") in app.notes
        screen = app.screen
        assert isinstance(screen, JobsScreen)
        assert screen.check_action("stop", ()) is None, "stop is dimmed for an ended job"
        assert screen.check_action("ping", ()) is True


async def test_without_a_broker_the_console_says_so_and_still_works() -> None:
    settings = load_settings(env={"STREAMFORGE_KAFKA_BOOTSTRAP": "127.0.0.1:1"})
    feed = EventFeed(settings, backoff=Backoff(initial=0.1, maximum=0.2))
    app = RecordingApp(settings, feed=feed)
    async with app.run_test(size=SIZE) as pilot:
        until = waiter(pilot)
        status = app.screen.query_one(StatusBar)
        await until(lambda: status.has_class("-disconnected"), "the link to be reported down")
        shown = status.render().plain
        assert "broker disconnected: cannot reach Kafka at 127.0.0.1:1" in shown
        assert "no events yet" in shown

        screen = app.screen
        assert isinstance(screen, JobsScreen)
        assert screen.check_action("ping", ()) is None, "nothing to ping without a job"
        await pilot.press("p", "s")
        assert app.notes == []

        await pilot.press("question_mark")
        await until(lambda: isinstance(app.screen, HelpScreen), "the help dialog")
        await pilot.press("escape")
        await until(lambda: isinstance(app.screen, JobsScreen), "the help dialog to close")

        await pilot.press("q")
    assert app.return_code == 0

"""The jobs screen: every job on the event log, the selected job's history, the link."""

from __future__ import annotations

import time

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from streamforge.schemas import CommandName, now_millis
from tui.feed import FeedStatus
from tui.rate import RateMeter
from tui.state import JobBoard
from tui.widgets import EventHistory, JobsTable, StatusBar


class JobsScreen(Screen[None]):
    """Shows a :class:`~tui.state.JobBoard`.

    It redraws when the app's ``revision`` changes (once per batch of new events) and once a
    second (ages, events per second), follows the app's ``link``, and asks the app to send
    commands with :class:`JobsScreen.CommandRequested`.
    """

    BINDINGS = [
        Binding("p", "ping", "Ping", tooltip="Ping the selected job's queue"),
        Binding("s", "stop", "Stop", tooltip="Stop the selected job"),
    ]

    class CommandRequested(Message):
        """The operator asked for ``command`` to be sent to ``queue_id``."""

        def __init__(self, command: CommandName, queue_id: str) -> None:
            super().__init__()
            self.command = command
            self.queue_id = queue_id

    def __init__(self, board: JobBoard, rate: RateMeter) -> None:
        super().__init__()
        self.board = board
        self.rate = rate
        self._actions_state: tuple[bool, bool] = (False, False)

    def compose(self) -> ComposeResult:
        yield Header()
        yield JobsTable(id="jobs")
        yield EventHistory(id="history")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(JobsTable).border_title = "Jobs"
        self.query_one(EventHistory).border_title = "History"
        self.watch(self.app, "revision", self.refresh_jobs)
        self.watch(self.app, "link", self._show_link)
        self.set_interval(1.0, self.refresh_jobs)

    def refresh_jobs(self) -> None:
        """Bring the tables and the status bar up to date with the board."""
        table = self.query_one(JobsTable)
        table.sync(self.board, now_millis())
        self._show_selected()
        status = self.query_one(StatusBar)
        status.rate = self.rate.rate(time.monotonic())
        last = self.board.last_event_at
        status.last_event_age = None if last is None else max(now_millis() - last, 0) / 1000

    @on(DataTable.RowHighlighted, "#jobs")
    def _job_highlighted(self) -> None:
        self._show_selected()

    def _show_selected(self) -> None:
        queue_id = self.query_one(JobsTable).selected_queue_id
        job = None if queue_id is None else self.board.get(queue_id)
        history = self.query_one(EventHistory)
        history.show(job)
        history.border_title = "History" if job is None else f"History of {job.queue_id}"
        actions_state = (job is not None, job is not None and not job.status.is_terminal)
        if actions_state != self._actions_state:
            self._actions_state = actions_state
            self.refresh_bindings()

    def _show_link(self, link: FeedStatus) -> None:
        self.query_one(StatusBar).link = link

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim ping without a selected job, and stop unless the selected job is running."""
        can_ping, can_stop = self._actions_state
        if action == "ping":
            return can_ping or None
        if action == "stop":
            return can_stop or None
        return True

    def action_ping(self) -> None:
        """Ask for a ping of the selected job's queue."""
        self._request(CommandName.PING)

    def action_stop(self) -> None:
        """Ask for the selected job to stop."""
        self._request(CommandName.STOP)

    def _request(self, command: CommandName) -> None:
        queue_id = self.query_one(JobsTable).selected_queue_id
        if queue_id is not None:
            self.post_message(self.CommandRequested(command, queue_id))

"""The jobs screen: every workflow on the event log, the selected one's steps and history."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header

from streamforge.orchestration.state import WorkflowBoard, WorkflowState, WorkflowStatus
from streamforge.schemas import CommandName
from tui.clock import Clock
from tui.feed import FeedStats, FeedStatus
from tui.screens.confirm import ConfirmScreen
from tui.widgets import EventHistory, StatusBar, StepsTable, WorkflowsTable

#: The feeds the status bar reports on, by name.
FeedsView = Callable[[], Sequence[tuple[str, FeedStats]]]

#: Workflows that a ``retry`` revives.
RETRYABLE = (WorkflowStatus.FAILED, WorkflowStatus.CANCELLED)


class JobsScreen(Screen[None]):
    """Shows a :class:`~streamforge.orchestration.state.WorkflowBoard`.

    It redraws when the app's ``revision`` changes (once per batch of new events) and once a
    second (ages, ETAs, the status bar), follows the app's ``link``, and asks the app to send
    commands with :class:`JobsScreen.CommandRequested`.

    Args:
        board: The workflows, folded by the app.
        clock: The time shown against (ages, ETAs).
        feeds: The feeds for the status bar.
    """

    BINDINGS = [
        Binding("s", "stop", "Stop", tooltip="Stop (cancel) the selected workflow"),
        Binding("r", "retry", "Retry", tooltip="Retry the failed steps of the selected workflow"),
        Binding("p", "ping", "Ping", tooltip="Ping the services running the selected workflow"),
    ]

    class CommandRequested(Message):
        """The operator asked for ``command`` to be sent about ``queue_id``."""

        def __init__(self, command: CommandName, queue_id: str) -> None:
            super().__init__()
            self.command = command
            self.queue_id = queue_id

    def __init__(self, board: WorkflowBoard, clock: Clock, feeds: FeedsView) -> None:
        super().__init__()
        self.board = board
        self.clock = clock
        self.feeds = feeds
        self._follow: str | None = None
        self._actions_state: tuple[WorkflowStatus | None, bool] = (None, False)

    def compose(self) -> ComposeResult:
        yield Header()
        yield WorkflowsTable(id="workflows")
        yield StepsTable(id="steps")
        yield EventHistory(id="history")
        yield StatusBar()
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(WorkflowsTable).border_title = "Workflows"
        self.query_one(StepsTable).border_title = "Steps"
        self.query_one(EventHistory).border_title = "History"
        self.watch(self.app, "revision", self.refresh_view)
        self.watch(self.app, "link", self._show_link)
        self.set_interval(1.0, self.refresh_view)

    @property
    def selected(self) -> WorkflowState | None:
        """The workflow under the cursor."""
        queue_id = self.query_one(WorkflowsTable).selected_queue_id
        return None if queue_id is None else self.board.get(queue_id)

    def select(self, queue_id: str) -> None:
        """Put the cursor on ``queue_id``'s workflow, now or as soon as it appears."""
        self._follow = queue_id
        self.refresh_view()

    def refresh_view(self) -> None:
        """Bring the tables and the status bar up to date."""
        now = self.clock()
        table = self.query_one(WorkflowsTable)
        table.sync(self.board, now)
        if self._follow is not None and table.select(self._follow):
            self._follow = None
        self._show_selected(now)
        self.query_one(StatusBar).show(self.feeds(), now)

    @on(DataTable.RowHighlighted, "#workflows")
    def _workflow_highlighted(self) -> None:
        self._show_selected(self.clock())

    def _show_selected(self, now: int) -> None:
        workflow = self.selected
        self.query_one(StepsTable).show(workflow, now)
        history = self.query_one(EventHistory)
        history.show(workflow)
        suffix = "" if workflow is None else f" of {workflow.queue_id}"
        self.query_one(StepsTable).border_title = f"Steps{suffix}"
        history.border_title = f"History{suffix}"
        state = (None, False) if workflow is None else (workflow.status, workflow.stop_requested)
        if state != self._actions_state:
            self._actions_state = state
            self.refresh_bindings()

    def _show_link(self, link: FeedStatus) -> None:
        self.query_one(StatusBar).link = link

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim what the selected workflow does not allow: stop unless it is live, retry unless
        it failed or was cancelled, everything without a selection."""
        status, stop_requested = self._actions_state
        if action == "stop":
            return (status is not None and not status.is_terminal and not stop_requested) or None
        if action == "retry":
            return status in RETRYABLE or None
        if action == "ping":
            return status is not None or None
        return True

    def action_stop(self) -> None:
        """Ask, then request a stop of the selected workflow."""
        self._confirmed(CommandName.STOP, "Stop workflow", "Stop {} and cancel its steps?")

    def action_retry(self) -> None:
        """Ask, then request a retry of the selected workflow's failed steps."""
        self._confirmed(CommandName.RETRY, "Retry workflow", "Retry the failed steps of {}?")

    def action_ping(self) -> None:
        """Ping the services running the selected workflow."""
        workflow = self.selected
        if workflow is not None:
            self.post_message(self.CommandRequested(CommandName.PING, workflow.queue_id))

    def _confirmed(self, command: CommandName, title: str, question: str) -> None:
        workflow = self.selected
        if workflow is None:
            return
        queue_id = workflow.queue_id

        def answered(yes: bool | None) -> None:
            if yes:
                self.post_message(self.CommandRequested(command, queue_id))

        self.app.push_screen(ConfirmScreen(title, question.format(queue_id)), answered)

"""The workflows table, the steps of the selected workflow and its event history.

Tables are updated in place: a redraw computes each row's cells and touches only the cells
that changed, so a batch of events costs one pass over the rows, not one widget per event.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from rich.text import Text
from textual.widgets import DataTable
from textual.widgets.data_table import CursorType

from streamforge.orchestration.state import StepState, StepStatus, WorkflowState, WorkflowStatus
from streamforge.schemas import Event
from streamforge.timefmt import format_eta
from tui.format import format_age, format_clock, format_payload, format_progress

#: Rich styles of workflow statuses.
WORKFLOW_STYLES = {
    WorkflowStatus.PENDING: "yellow",
    WorkflowStatus.RUNNING: "bold cyan",
    WorkflowStatus.SUCCEEDED: "green",
    WorkflowStatus.FAILED: "bold red",
    WorkflowStatus.CANCELLED: "magenta",
}

#: Rich styles of step statuses.
STEP_STYLES = {
    StepStatus.PENDING: "dim",
    StepStatus.RUNNING: "bold cyan",
    StepStatus.RETRYING: "bold yellow",
    StepStatus.SUCCEEDED: "green",
    StepStatus.FAILED: "bold red",
    StepStatus.CANCELLED: "magenta",
}

#: Payload keys the history leaves out (ids and the submitted plan are noise there).
HIDDEN_PAYLOAD = ("command_id", "steps")

Columns = Sequence[tuple[str, str]]


def workflow_cells(workflow: WorkflowState, now_ms: int) -> tuple[Text, ...]:
    """The cells of a workflow's row, in :attr:`WorkflowsTable.COLUMNS` order."""
    style = WORKFLOW_STYLES[workflow.status]
    return (
        Text(workflow.queue_id),
        Text(workflow.workflow),
        Text(workflow.status.value, style=style),
        Text(format_progress(workflow.progress), style=style),
        Text(f"{workflow.records_written:,}", justify="right"),
        Text(format_eta(workflow.eta_ms(now_ms)), justify="right"),
        Text(format_age((now_ms - workflow.submitted_at) / 1000), justify="right"),
        Text(workflow.reason, style="red", no_wrap=True, overflow="ellipsis"),
    )


def step_detail(step: StepState, now_ms: int) -> str:
    """Why a step failed or waits, else its last message."""
    if step.status is StepStatus.RETRYING and step.retry_at is not None:
        return f"retry in {format_age((step.retry_at - now_ms) / 1000)}: {step.reason}"
    return step.reason or step.message


def step_cells(step: StepState, now_ms: int) -> tuple[Text, ...]:
    """The cells of a step's row, in :attr:`StepsTable.COLUMNS` order."""
    style = STEP_STYLES[step.status]
    attempts = step.plan.retries + 1
    return (
        Text(step.name),
        Text(step.plan.service),
        Text(step.status.value, style=style),
        Text(f"{step.attempt}/{attempts}" if step.attempt else "-", justify="right"),
        Text(format_progress(step.progress), style=style),
        Text(f"{step.records_written:,}", justify="right"),
        Text(step_detail(step, now_ms), no_wrap=True, overflow="ellipsis"),
    )


def event_cells(event: Event) -> tuple[Text, ...]:
    """The cells of an event's row, in :attr:`EventHistory.COLUMNS` order."""
    shown = {k: v for k, v in event.payload.items() if k not in HIDDEN_PAYLOAD}
    return (
        Text(format_clock(event.timestamp)),
        Text(event.event.value, style="bold" if event.is_terminal else ""),
        Text(event.producer),
        Text(format_payload(shown), no_wrap=True, overflow="ellipsis"),
    )


def _same(shown: object, cell: Text) -> bool:
    return (
        isinstance(shown, Text)
        and shown.plain == cell.plain
        and shown.style == cell.style
        and shown.spans == cell.spans
    )


class KeyedTable(DataTable[Text]):
    """A table of rows keyed by name whose cells are updated only where they changed."""

    COLUMNS: ClassVar[Columns] = ()
    """Column keys and labels."""

    def __init__(
        self, *, id: str | None = None, cursor_type: CursorType = "row", zebra: bool = False
    ) -> None:
        super().__init__(id=id, cursor_type=cursor_type, zebra_stripes=zebra)

    def on_mount(self) -> None:
        for key, label in self.COLUMNS:
            self.add_column(label, key=key)

    def put(self, key: str, cells: Sequence[Text]) -> None:
        """Add the row ``key``, or update the cells of it that changed."""
        if key not in self.rows:
            self.add_row(*cells, key=key)
            return
        for (column, _), cell in zip(self.COLUMNS, cells, strict=True):
            if not _same(self.get_cell(key, column), cell):
                self.update_cell(key, column, cell, update_width=True)


class WorkflowsTable(KeyedTable):
    """One row per workflow, keyed by queue id, in submission order; click or move to select."""

    COLUMNS = (
        ("queue", "queue id"),
        ("workflow", "workflow"),
        ("status", "status"),
        ("progress", "progress"),
        ("records", "records"),
        ("eta", "ETA"),
        ("age", "age"),
        ("reason", "reason"),
    )

    def sync(self, workflows: Iterable[WorkflowState], now_ms: int) -> None:
        """Bring every row up to date."""
        for workflow in workflows:
            self.put(workflow.queue_id, workflow_cells(workflow, now_ms))

    @property
    def selected_queue_id(self) -> str | None:
        """The queue id of the row under the cursor, if there are rows."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value

    def select(self, queue_id: str) -> bool:
        """Move the cursor to ``queue_id``'s row; ``False`` if there is no such row yet."""
        if queue_id not in self.rows:
            return False
        self.move_cursor(row=self.get_row_index(queue_id))
        return True


class StepsTable(KeyedTable):
    """The steps of one workflow, in start order."""

    COLUMNS = (
        ("step", "step"),
        ("service", "service"),
        ("status", "status"),
        ("attempt", "attempt"),
        ("progress", "progress"),
        ("records", "records"),
        ("detail", "detail"),
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none")
        self._queue_id: str | None = None

    def show(self, workflow: WorkflowState | None, now_ms: int) -> None:
        """Show ``workflow``'s steps (none for ``None``)."""
        queue_id = None if workflow is None else workflow.queue_id
        if queue_id != self._queue_id:
            self.clear()
            self._queue_id = queue_id
        if workflow is not None:
            for step in workflow.steps.values():
                self.put(step.name, step_cells(step, now_ms))


class EventHistory(KeyedTable):
    """The newest events of one workflow, oldest first; rows are keyed by event id. It keeps
    the newest event in view unless the operator scrolled away from it."""

    COLUMNS = (
        ("time", "time (UTC)"),
        ("event", "event"),
        ("producer", "producer"),
        ("details", "details"),
    )

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id, cursor_type="none", zebra=True)
        self._queue_id: str | None = None
        self._shown = 0

    @property
    def queue_id(self) -> str | None:
        """The queue id whose events are shown."""
        return self._queue_id

    def show(self, workflow: WorkflowState | None) -> None:
        """Show ``workflow``'s history: all of it for a newly selected one, else what is new."""
        queue_id = None if workflow is None else workflow.queue_id
        if queue_id != self._queue_id:
            self.clear()
            self._queue_id = queue_id
            self._shown = 0
        if workflow is None or workflow.event_count == self._shown:
            return
        following = not self._shown or self.is_vertical_scroll_end
        fresh = min(workflow.event_count - self._shown, len(workflow.history))
        for event in list(workflow.history)[-fresh:]:
            self.add_row(*event_cells(event), key=event.event_id)
        self._shown = workflow.event_count
        limit = workflow.history.maxlen or self.row_count
        while self.row_count > limit:
            self.remove_row(self.ordered_rows[0].key)
        if following:
            # The table scrolls its (hidden) cursor into view whenever it lays out rows.
            self.move_cursor(row=self.row_count - 1, animate=False)

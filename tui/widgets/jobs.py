"""The jobs table and the event history of the selected job."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.widgets import DataTable

from streamforge.schemas import Event
from tui.format import format_age, format_clock, format_payload, format_progress
from tui.state import JobState, JobStatus

#: Rich styles of the status column.
STATUS_STYLES = {
    JobStatus.STARTING: "yellow",
    JobStatus.RUNNING: "bold cyan",
    JobStatus.FINISHED: "green",
    JobStatus.ERROR: "bold red",
    JobStatus.INTERRUPTED: "magenta",
}

#: Column keys and labels of the jobs table.
JOB_COLUMNS = (
    ("queue", "queue id"),
    ("service", "service"),
    ("status", "status"),
    ("progress", "progress"),
    ("records", "records"),
    ("age", "age"),
)

#: Column keys and labels of the history table.
HISTORY_COLUMNS = (
    ("time", "time (UTC)"),
    ("event", "event"),
    ("producer", "producer"),
    ("details", "details"),
)


def job_cells(job: JobState, now_ms: int) -> tuple[Text, ...]:
    """The cells of ``job``'s row, in :data:`JOB_COLUMNS` order."""
    age = job.age_ms(now_ms)
    return (
        Text(job.queue_id),
        Text(job.service or "-"),
        Text(job.status.value, style=STATUS_STYLES[job.status]),
        Text(format_progress(job.progress)),
        Text(f"{job.records_written:,}", justify="right"),
        Text(format_age(None if age is None else age / 1000), justify="right"),
    )


def event_cells(event: Event) -> tuple[Text, ...]:
    """The cells of ``event``'s row, in :data:`HISTORY_COLUMNS` order."""
    return (
        Text(format_clock(event.timestamp)),
        Text(event.event.value, style="bold" if event.is_terminal else ""),
        Text(event.producer),
        Text(format_payload(event.payload), no_wrap=True, overflow="ellipsis"),
    )


class JobsTable(DataTable[Text]):
    """One row per job, keyed by queue id, in the order the jobs first appeared."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="row")

    def on_mount(self) -> None:
        for key, label in JOB_COLUMNS:
            self.add_column(label, key=key)

    def sync(self, jobs: Iterable[JobState], now_ms: int) -> None:
        """Add rows for new jobs and update the cells that changed."""
        for job in jobs:
            cells = job_cells(job, now_ms)
            if job.queue_id not in self.rows:
                self.add_row(*cells, key=job.queue_id)
                continue
            for (column, _), cell in zip(JOB_COLUMNS, cells, strict=True):
                if self.get_cell(job.queue_id, column) != cell:
                    self.update_cell(job.queue_id, column, cell, update_width=True)

    @property
    def selected_queue_id(self) -> str | None:
        """The queue id of the row under the cursor, if there are rows."""
        if not self.row_count:
            return None
        return self.coordinate_to_cell_key(self.cursor_coordinate).row_key.value


class EventHistory(DataTable[Text]):
    """The newest events of one job, oldest first; rows are keyed by event id."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes, cursor_type="none", zebra_stripes=True)
        self._queue_id: str | None = None
        self._shown = 0

    @property
    def queue_id(self) -> str | None:
        """The queue id whose events are shown."""
        return self._queue_id

    def on_mount(self) -> None:
        for key, label in HISTORY_COLUMNS:
            self.add_column(label, key=key)

    def show(self, job: JobState | None) -> None:
        """Show ``job``'s history: all of it for a newly selected job, else what is new."""
        queue_id = None if job is None else job.queue_id
        if queue_id != self._queue_id:
            self.clear()
            self._queue_id = queue_id
            self._shown = 0
        if job is None or job.event_count == self._shown:
            return
        fresh = min(job.event_count - self._shown, len(job.history))
        following = self.scroll_y >= self.max_scroll_y
        for event in list(job.history)[-fresh:]:
            self.add_row(*event_cells(event), key=event.event_id)
        self._shown = job.event_count
        limit = job.history.maxlen or self.row_count
        while self.row_count > limit:
            self.remove_row(self.ordered_rows[0].key)
        if following:
            self.scroll_end(animate=False, immediate=False)

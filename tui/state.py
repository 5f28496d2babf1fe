"""Job state folded from ``queue-events``; plain Python, no Textual.

A :class:`JobBoard` holds one :class:`JobState` per queue id. Folding is idempotent: an event
whose ``event_id`` was already applied changes nothing, so the console can re-read the log from
its beginning after a reconnect and arrive at the same state.

Status rules, per queue:

* ``started`` begins a run: the status becomes ``running`` and progress, records, message and
  reason start afresh (a retry on the same queue id is a new run);
* ``loading`` reports progress; the first one also moves ``starting`` to ``running``;
* ``finished``, ``error`` and ``interrupted`` end the run; a finished run is at 100 %;
* after a terminal event only a new ``started`` changes the status (a ``loading`` that raced the
  end of a run is kept in the history and otherwise ignored).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from streamforge.schemas import Event, EventName

#: Events kept per job for its history pane (older ones are dropped, still counted).
HISTORY_LIMIT = 500


class JobStatus(StrEnum):
    """Where a job's current run stands."""

    STARTING = "starting"
    RUNNING = "running"
    FINISHED = "finished"
    ERROR = "error"
    INTERRUPTED = "interrupted"

    @property
    def is_terminal(self) -> bool:
        """Whether the run has ended."""
        return self in (JobStatus.FINISHED, JobStatus.ERROR, JobStatus.INTERRUPTED)


_TERMINAL_STATUS = {
    EventName.FINISHED: JobStatus.FINISHED,
    EventName.ERROR: JobStatus.ERROR,
    EventName.INTERRUPTED: JobStatus.INTERRUPTED,
}


def service_of(producer: str) -> str:
    """The service part of a ``service__instance`` producer name."""
    return producer.split("__", 1)[0]


@dataclass
class JobState:
    """What the console knows about one queue id; feed it with :meth:`apply`.

    Attributes:
        queue_id: The job's queue id.
        history_limit: How many events :attr:`history` keeps.
        service: The service running the job (from ``started``, else the producer name).
        producer: The ``service__instance`` that reported the current run.
        status: Where the current run stands.
        progress: The last reported fraction done (0..1), ``None`` until one is reported.
        records_written: The last reported count of records written.
        message: The last non-empty ``message`` reported.
        reason: Why the run failed (``error`` events only).
        first_seen_at: Timestamp (epoch ms) of the first event of this queue.
        started_at: Timestamp of the current run's ``started`` event.
        updated_at: Timestamp of the newest event of this queue.
        event_count: How many distinct events were applied.
        history: The newest events, oldest first.
    """

    queue_id: str
    history_limit: int = HISTORY_LIMIT
    service: str = ""
    producer: str = ""
    status: JobStatus = JobStatus.STARTING
    progress: float | None = None
    records_written: int = 0
    message: str = ""
    reason: str = ""
    first_seen_at: int | None = None
    started_at: int | None = None
    updated_at: int | None = None
    event_count: int = 0
    history: deque[Event] = field(init=False, repr=False)
    _seen: set[str] = field(init=False, repr=False, default_factory=set)

    def __post_init__(self) -> None:
        self.history = deque(maxlen=self.history_limit)

    def apply(self, event: Event) -> bool:
        """Fold one event of this queue in; ``False`` (and no change) if it was seen before."""
        if event.event_id in self._seen:
            return False
        self._seen.add(event.event_id)
        self.event_count += 1
        self.history.append(event)
        if self.first_seen_at is None:
            self.first_seen_at = event.timestamp
        self.updated_at = max(self.updated_at or 0, event.timestamp)
        if not self.producer:
            self._identify(event)
        if event.event is EventName.STARTED:
            self._start(event)
        elif not self.status.is_terminal:
            self._advance(event)
        return True

    def age_ms(self, now_ms: int) -> int | None:
        """Milliseconds since the current run started (or since the job was first seen)."""
        since = self.started_at if self.started_at is not None else self.first_seen_at
        return None if since is None else max(now_ms - since, 0)

    def _identify(self, event: Event) -> None:
        self.producer = event.producer
        self.service = _text(event.payload.get("service")) or service_of(event.producer)

    def _start(self, event: Event) -> None:
        self._identify(event)
        self.status = JobStatus.RUNNING
        self.started_at = event.timestamp
        self.progress = None
        self.records_written = 0
        self.message = ""
        self.reason = ""
        self._absorb(event.payload)

    def _advance(self, event: Event) -> None:
        if event.event is EventName.LOADING:
            self.status = JobStatus.RUNNING
            self._absorb(event.payload)
        elif event.event in _TERMINAL_STATUS:
            self.status = _TERMINAL_STATUS[event.event]
            self._absorb(event.payload)
            if self.status is JobStatus.FINISHED:
                self.progress = 1.0
            elif self.status is JobStatus.ERROR:
                self.reason = _text(event.payload.get("reason")) or "unknown error"

    def _absorb(self, payload: Mapping[str, Any]) -> None:
        """Take progress, records written and message from a payload, ignoring bad values."""
        progress = payload.get("progress")
        if isinstance(progress, int | float) and not isinstance(progress, bool):
            self.progress = min(max(float(progress), 0.0), 1.0)
        records = payload.get("records_written")
        if isinstance(records, int) and not isinstance(records, bool) and records >= 0:
            self.records_written = records
        message = _text(payload.get("message"))
        if message:
            self.message = message


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class JobBoard:
    """Every job seen on the event log, in the order they first appeared."""

    def __init__(self, history_limit: int = HISTORY_LIMIT) -> None:
        self.history_limit = history_limit
        self._jobs: dict[str, JobState] = {}
        #: Timestamp (epoch ms) of the newest event applied, ``None`` before the first.
        self.last_event_at: int | None = None

    def apply(self, event: Event) -> bool:
        """Fold one event in; ``False`` (and no change) if its ``event_id`` was seen before."""
        job = self._jobs.get(event.queue_id)
        if job is None:
            job = self._jobs[event.queue_id] = JobState(event.queue_id, self.history_limit)
        if not job.apply(event):
            return False
        self.last_event_at = max(self.last_event_at or 0, event.timestamp)
        return True

    def apply_all(self, events: Iterable[Event]) -> int:
        """Fold events in order; return how many were new."""
        return sum(self.apply(event) for event in events)

    def get(self, queue_id: str) -> JobState | None:
        """The job of ``queue_id``, if any event of it was seen."""
        return self._jobs.get(queue_id)

    def __iter__(self) -> Iterator[JobState]:
        return iter(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)

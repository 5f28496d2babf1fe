"""The fold of events into job state, without Kafka."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from streamforge.schemas import Event, EventName
from tui.state import JobBoard, JobState, JobStatus, service_of

_clock = itertools.count(1_700_000_000_000, 250)
PRODUCER = "dummy-service__host-1"


def event(
    name: EventName,
    queue_id: str = "q1",
    producer: str = PRODUCER,
    **payload: Any,
) -> Event:
    """A fresh event, 250 ms after the previous one."""
    made = Event.new(name, queue_id, producer, payload)
    return Event(
        event_id=made.event_id,
        queue_id=made.queue_id,
        producer=made.producer,
        event=made.event,
        payload=made.payload,
        timestamp=next(_clock),
    )


def fold(*events: Event) -> JobState:
    board = JobBoard()
    board.apply_all(events)
    (job,) = board
    return job


def test_a_run_goes_from_started_through_loading_to_finished_at_100_percent() -> None:
    started = event(EventName.STARTED, service="dummy-service", pid=7)
    job = fold(started)
    assert (job.status, job.service, job.producer) == (JobStatus.RUNNING, "dummy-service", PRODUCER)
    assert (job.started_at, job.progress) == (started.timestamp, None)

    job.apply(event(EventName.LOADING, progress=0.25, records_written=10))
    assert (job.progress, job.records_written) == (0.25, 10)
    job.apply(event(EventName.LOADING, progress=0.6, records_written=30, message="half way"))
    finished = event(EventName.FINISHED, records_written=40)
    job.apply(finished)
    assert job.status is JobStatus.FINISHED
    assert job.status.is_terminal
    assert (job.progress, job.records_written, job.message) == (1.0, 40, "half way")
    assert job.updated_at == finished.timestamp
    assert job.event_count == 4
    assert [e.event for e in job.history] == [
        EventName.STARTED,
        EventName.LOADING,
        EventName.LOADING,
        EventName.FINISHED,
    ]


def test_error_keeps_the_reason_and_the_last_progress() -> None:
    job = fold(
        event(EventName.STARTED),
        event(EventName.LOADING, progress=0.4, records_written=4),
        event(EventName.ERROR, progress=0.5, reason="simulated failure after 1 s"),
    )
    assert job.status is JobStatus.ERROR
    assert job.reason == "simulated failure after 1 s"
    assert (job.progress, job.records_written) == (0.5, 4)


def test_error_without_a_reason_says_so() -> None:
    assert fold(event(EventName.STARTED), event(EventName.ERROR)).reason == "unknown error"


def test_interrupted_ends_the_run() -> None:
    job = fold(event(EventName.STARTED), event(EventName.INTERRUPTED, records_written=3))
    assert (job.status, job.records_written) == (JobStatus.INTERRUPTED, 3)


def test_duplicate_event_ids_change_nothing() -> None:
    events = [
        event(EventName.STARTED),
        event(EventName.LOADING, progress=0.5, records_written=5),
        event(EventName.FINISHED, records_written=9),
    ]
    board = JobBoard()
    assert board.apply_all(events) == 3
    job = board.get("q1")
    assert job is not None
    snapshot = (job.status, job.progress, job.records_written, job.event_count, len(job.history))
    last = board.last_event_at

    assert board.apply_all(events) == 0
    assert not board.apply(events[1])
    assert not job.apply(events[0])
    assert (job.status, job.progress, job.records_written, job.event_count, len(job.history)) == (
        snapshot
    )
    assert board.last_event_at == last


def test_a_loading_that_races_the_end_does_not_reopen_the_run() -> None:
    job = fold(
        event(EventName.STARTED),
        event(EventName.INTERRUPTED, progress=0.3, records_written=3),
        event(EventName.LOADING, progress=0.35, records_written=4),
    )
    assert (job.status, job.progress, job.records_written) == (JobStatus.INTERRUPTED, 0.3, 3)
    assert job.event_count == 3


def test_a_new_started_after_the_end_begins_a_fresh_run() -> None:
    restarted = event(EventName.STARTED, producer="dummy-service__host-2")
    job = fold(
        event(EventName.STARTED),
        event(EventName.LOADING, progress=0.9, records_written=90, message="almost"),
        event(EventName.ERROR, reason="boom"),
        restarted,
    )
    assert job.status is JobStatus.RUNNING
    assert (job.progress, job.records_written, job.message, job.reason) == (None, 0, "", "")
    assert job.producer == "dummy-service__host-2"
    assert job.started_at == restarted.timestamp


def test_a_job_first_seen_mid_run_is_running_once_it_reports_loading() -> None:
    accepted = event(EventName.ACCEPTED, producer="queue-manager__qm-1", command_id="c1")
    job = fold(accepted)
    assert (job.status, job.service, job.started_at) == (JobStatus.STARTING, "queue-manager", None)
    assert job.age_ms(accepted.timestamp + 1500) == 1500

    job.apply(event(EventName.LOADING, progress=0.1))
    assert job.status is JobStatus.RUNNING


def test_pong_and_other_events_go_to_the_history_only() -> None:
    job = fold(
        event(EventName.STARTED),
        event(EventName.PONG, command_id="c1", state="running"),
        event(EventName.REJECTED, command_id="c2", field="command", reason="no"),
    )
    assert job.status is JobStatus.RUNNING
    assert job.event_count == 3


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        ({"progress": 1.7, "records_written": 5}, (1.0, 5)),
        ({"progress": -0.2, "records_written": -1}, (0.0, 0)),
        ({"progress": "half", "records_written": "many"}, (None, 0)),
        ({"progress": True, "records_written": True}, (None, 0)),
        ({"progress": 1, "records_written": 2}, (1.0, 2)),
    ],
)
def test_bad_payload_values_are_clamped_or_ignored(
    payload: dict[str, Any], expected: tuple[float | None, int]
) -> None:
    job = fold(event(EventName.STARTED), event(EventName.LOADING, **payload))
    assert (job.progress, job.records_written) == expected


def test_the_board_keeps_jobs_apart_in_the_order_they_appeared() -> None:
    board = JobBoard()
    board.apply_all(
        [
            event(EventName.STARTED, queue_id="b"),
            event(EventName.STARTED, queue_id="a"),
            event(EventName.FINISHED, queue_id="b"),
        ]
    )
    assert [job.queue_id for job in board] == ["b", "a"]
    assert len(board) == 2
    job_a = board.get("a")
    assert job_a is not None
    assert job_a.status is JobStatus.RUNNING
    assert board.get("missing") is None


def test_history_is_bounded_but_every_event_is_counted() -> None:
    board = JobBoard(history_limit=3)
    events = [event(EventName.STARTED)] + [event(EventName.LOADING) for _ in range(5)]
    board.apply_all(events)
    job = board.get("q1")
    assert job is not None
    assert job.event_count == 6
    assert list(job.history) == events[-3:]
    assert board.apply(events[0]) is False  # still known after leaving the history


def test_last_event_at_is_the_newest_timestamp_applied() -> None:
    board = JobBoard()
    assert board.last_event_at is None
    older, newer = event(EventName.STARTED, queue_id="x"), event(EventName.STARTED, queue_id="y")
    board.apply_all([newer, older])
    assert board.last_event_at == newer.timestamp


def test_service_of_takes_the_part_before_the_instance() -> None:
    assert service_of("loader-ws__pod-abc") == "loader-ws"
    assert service_of("plain") == "plain"

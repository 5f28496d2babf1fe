"""Workflow state fold speed: events of ``queue-events`` decoded and folded per second.

Run as ``python -m benchmarks.fold``. The synthetic log is what a busy queue-manager leaves:
many backfill workflows, each submitted, running two steps through a retry, with services'
``loading`` reports making up most of it (as they do in a real log), then concluding. The
figure covers JSON decoding (the strict ``Event`` contract) and :class:`WorkflowBoard.apply`,
which is what the queue-manager, the CLI and the console do when they rebuild state: once as a
live reader folds (the garbage collector on), once as a replay of the log does (paused).
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import time

from streamforge.orchestration.log import collector_paused
from streamforge.orchestration.state import WorkflowBoard, WorkflowStatus
from streamforge.schemas import Codec, Event, EventName, encode

QM = "queue-manager__bench-1"


def workflow_log(queue_id: str, loadings: int) -> list[Event]:
    """The events of one backfill workflow with ``loadings`` progress reports a step."""
    steps = [
        {"name": "load", "service": "loader-history", "args": ["--symbol", "BTCUSDT"]},
        {"name": "persist", "service": "store-connector", "args": ["--mode", "workflow"]},
    ]

    def qm(name: EventName, **payload: object) -> Event:
        return Event.new(name, queue_id, QM, dict(payload))

    events = [
        qm(EventName.ACCEPTED, command_id=f"c-{queue_id}", command="start"),
        qm(EventName.WORKFLOW_SUBMITTED, workflow="backfill", params={}, steps=steps),
        qm(EventName.WORKFLOW_RUNNING),
    ]
    for step, service in (("load", "loader-history"), ("persist", "store-connector")):
        producer = f"{service}__bench-2"
        events.append(qm(EventName.STEP_RUNNING, step=step, attempt=1, ref="local:1:1"))
        events.append(qm(EventName.STEP_RETRYING, step=step, attempt=1, reason="x", retry_at=0))
        events.append(qm(EventName.STEP_RUNNING, step=step, attempt=2, ref="local:2:2"))
        events.append(
            Event.new(EventName.STARTED, queue_id, producer, {"step": step, "attempt": 2})
        )
        events += [
            Event.new(
                EventName.LOADING,
                queue_id,
                producer,
                {"step": step, "attempt": 2, "progress": i / loadings, "records_written": i * 1000},
            )
            for i in range(loadings)
        ]
        events.append(
            Event.new(EventName.FINISHED, queue_id, producer, {"step": step, "attempt": 2})
        )
        events.append(qm(EventName.STEP_SUCCEEDED, step=step, attempt=2))
    events.append(qm(EventName.WORKFLOW_SUCCEEDED))
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workflows", type=int, default=2_000)
    parser.add_argument("--loadings", type=int, default=100, help="reports per step")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()

    raw = [encode(e) for n in range(args.workflows) for e in workflow_log(f"bf-{n}", args.loadings)]
    codec: Codec[Event] = Codec(Event)
    print(f"log: {len(raw):,} events, {args.workflows:,} workflows")
    for round_ in range(1, args.rounds + 1):
        for label, context in (
            ("live (collector on)", contextlib.nullcontext()),
            ("replay (collector paused)", collector_paused()),
        ):
            board = WorkflowBoard()
            started = time.perf_counter()
            with context:
                for data in raw:
                    board.apply(codec.decode(data))
            elapsed = time.perf_counter() - started
            assert all(w.status is WorkflowStatus.SUCCEEDED for w in board)
            del board
            gc.unfreeze()
            gc.collect()
            print(f"round {round_}: decode + fold, {label}: {len(raw) / elapsed:,.0f} events/s")
    events = [codec.decode(data) for data in raw]
    board = WorkflowBoard()
    started = time.perf_counter()
    for item in events:
        board.apply(item)
    elapsed = time.perf_counter() - started
    print(f"fold only (pre-decoded): {len(events) / elapsed:,.0f} events/s")


if __name__ == "__main__":
    main()

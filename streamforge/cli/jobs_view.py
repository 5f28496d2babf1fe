"""Plain-text views of workflows for the headless CLI: tables, detail, progress lines."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime

from streamforge.orchestration.state import StepState, WorkflowState
from streamforge.schemas import Event
from streamforge.timefmt import format_age, format_eta

_BAR_WIDTH = 24


def clock(ms: int | None) -> str:
    """UTC date and time of epoch ms, to the second."""
    if ms is None:
        return "-"
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S")


def percent(fraction: float | None) -> str:
    """``42.0%``, or ``-`` when unknown."""
    return "-" if fraction is None else f"{fraction * 100:.1f}%"


def bar(fraction: float, width: int = _BAR_WIDTH) -> str:
    """A text progress bar: ``[#########...........]``."""
    filled = round(min(max(fraction, 0.0), 1.0) * width)
    return "[" + "#" * filled + "." * (width - filled) + "]"


def _steps_summary(workflow: WorkflowState) -> str:
    return " ".join(f"{s.name}:{s.status.value}" for s in workflow.steps.values())


def jobs_table(workflows: Iterable[WorkflowState], now_ms: int) -> str:
    """One line per workflow under a header."""
    rows: list[tuple[str, ...]] = [
        ("QUEUE ID", "WORKFLOW", "STATUS", "PROGRESS", "RECORDS", "AGE", "STEPS", "REASON")
    ]
    for w in workflows:
        age = format_age((now_ms - w.submitted_at) / 1000)
        rows.append(
            (
                w.queue_id,
                w.workflow,
                w.status.value,
                percent(w.progress),
                f"{w.records_written:,}",
                age,
                _steps_summary(w),
                w.reason,
            )
        )
    if len(rows) == 1:
        return "no workflows"
    return table(rows)


def step_line(step: StepState) -> tuple[str, ...]:
    """The row of one step in ``streamforge job``."""
    attempt = f"{step.attempt}/{step.plan.retries + 1}" if step.attempt else "-"
    return (
        step.name,
        step.plan.service,
        step.status.value,
        attempt,
        percent(step.progress),
        f"{step.records_written:,}",
        step.reason or step.message,
    )


def job_detail(workflow: WorkflowState, now_ms: int, history: int = 50) -> str:
    """Steps, progress and the event history of one workflow."""
    params = " ".join(f"{k}={v}" for k, v in workflow.params.items())
    head = [
        f"queue id   {workflow.queue_id}",
        f"workflow   {workflow.workflow}  {params}",
        f"status     {workflow.status.value}"
        + (f"  ({workflow.reason})" if workflow.reason else ""),
        f"progress   {bar(workflow.progress)} {percent(workflow.progress)}  "
        f"{workflow.records_written:,} records  eta {format_eta(workflow.eta_ms(now_ms))}",
        f"submitted  {clock(workflow.submitted_at)}  ended {clock(workflow.ended_at)}",
        "",
    ]
    steps = table(
        [
            ("STEP", "SERVICE", "STATUS", "ATTEMPT", "PROGRESS", "RECORDS", "DETAIL"),
            *(step_line(s) for s in workflow.steps.values()),
        ]
    )
    events = list(workflow.history)[-history:]
    lines = [*head, steps, "", f"events (last {len(events)} of {workflow.event_count})"]
    lines += [event_line(e) for e in events]
    return "\n".join(lines)


def event_line(event: Event) -> str:
    """One event of a history."""
    when = datetime.fromtimestamp(event.timestamp / 1000, UTC).strftime("%H:%M:%S.%f")[:-3]
    shown = {k: v for k, v in event.payload.items() if k not in ("command_id", "steps")}
    details = " ".join(f"{k}={v}" for k, v in shown.items())
    return f"  {when} {event.event.value:<18} {event.service:<16} {details}"


def progress_line(workflow: WorkflowState, now_ms: int) -> str:
    """One line of a followed workflow's progress."""
    steps = " ".join(
        f"{s.name}={s.status.value}"
        + (
            f"({percent(s.progress)})"
            if s.progress is not None and not s.status.is_terminal
            else ""
        )
        for s in workflow.steps.values()
    )
    return (
        f"{workflow.queue_id} {workflow.status.value} {bar(workflow.progress)} "
        f"{percent(workflow.progress)} {workflow.records_written:,} records "
        f"eta {format_eta(workflow.eta_ms(now_ms))}  {steps}"
    )


def _step_progress(step: StepState) -> str:
    if step.progress is None or step.status.is_terminal:
        return f"{step.name}={step.status.value}"
    return f"{step.name}={step.status.value}({percent(step.progress)})"


def table(rows: Sequence[tuple[str, ...]]) -> str:
    """Rows (the first a header) in left-aligned columns two spaces apart."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )

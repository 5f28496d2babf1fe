"""Plain-text views of the stack for ``streamforge up`` and ``streamforge status``."""

from __future__ import annotations

from dev_env.supervisor import ServiceRecord, ServiceState, SupervisorState
from streamforge.cli.jobs_view import table
from streamforge.timefmt import format_age

_RUNNING = (ServiceState.STARTING, ServiceState.HEALTHY, ServiceState.UNHEALTHY)


def services_table(state: SupervisorState, now: float) -> str:
    """One line per service: the supervised processes, then the workflow's steps."""
    rows: list[tuple[str, ...]] = [
        ("SERVICE", "KIND", "STATE", "PID", "RESTARTS", "UPTIME", "HEALTH", "DETAIL")
    ]
    rows += [_row(service, now) for service in state.services]
    return table(rows)


def status_text(state: SupervisorState, now: float) -> str:
    """The stack as ``streamforge status`` shows it."""
    up_for = format_age(now - state.started_at)
    lines = [
        f"stack {state.phase.value}, supervisor pid {state.pid}, up {up_for}",
        "",
        services_table(state, now),
        "",
        *_details(state),
    ]
    if state.error:
        lines.append(f"error: {state.error}")
    return "\n".join(lines)


def _row(service: ServiceRecord, now: float) -> tuple[str, ...]:
    running = service.state in _RUNNING
    started = service.started_at
    uptime = format_age(now - started) if running and started is not None else "-"
    return (
        service.name,
        service.kind,
        service.state.value,
        str(service.pid) if service.pid and running else "-",
        str(service.restarts),
        uptime,
        service.health or "-",
        service.reason,
    )


def _details(state: SupervisorState) -> list[str]:
    details = dict(state.details)
    origin = details.pop("kafka_origin", "")
    if origin and "kafka" in details:
        details["kafka"] = f"{details['kafka']} ({origin})"
    width = max((len(key) for key in details), default=0)
    return [f"{key.replace('_', ' '):<{width}}  {value}" for key, value in details.items()]

"""The supervisor's record of its services, kept in a JSON file that ``status`` and ``down`` read.

The file is replaced atomically on every change, so a reader never sees half of it.
"""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path

import msgspec


class ServiceState(StrEnum):
    """Where a service stands."""

    STARTING = "starting"
    HEALTHY = "healthy"
    UNHEALTHY = "unhealthy"
    RESTARTING = "restarting"
    FAILED = "failed"
    STOPPED = "stopped"


class Phase(StrEnum):
    """Where the whole stack stands."""

    STARTING = "starting"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"
    FAILED = "failed"


class ServiceRecord(msgspec.Struct, kw_only=True):
    """One service as last seen.

    ``kind`` is ``process`` for a process of the supervisor's own, ``step`` for a workflow step
    that the queue-manager runs. ``pid_started`` is the process's start time in clock ticks
    since boot: with the pid it names one process even once the pid is reused.
    """

    name: str
    kind: str = "process"
    state: ServiceState
    pid: int | None = None
    pid_started: int | None = None
    restarts: int = 0
    started_at: float | None = None
    health: str | None = None
    log: str | None = None
    exit_code: int | None = None
    reason: str = ""


class SupervisorState(msgspec.Struct, kw_only=True):
    """The supervisor and every service it reports on.

    ``details`` holds what an operator needs to use the stack (addresses, the data dir, ...).
    """

    pid: int
    pid_started: int | None
    started_at: float
    updated_at: float
    phase: Phase
    error: str = ""
    services: list[ServiceRecord] = msgspec.field(default_factory=list)
    details: dict[str, str] = msgspec.field(default_factory=dict)

    @property
    def healthy(self) -> bool:
        """Whether the stack is up and every service in it is healthy."""
        return self.phase is Phase.RUNNING and all(
            service.state is ServiceState.HEALTHY for service in self.services
        )


_decoder = msgspec.json.Decoder(SupervisorState)


def read_state(path: Path) -> SupervisorState | None:
    """The state recorded at ``path``; None when there is none or it is unreadable."""
    try:
        return _decoder.decode(path.read_bytes())
    except (OSError, msgspec.DecodeError):
        return None


def write_state(path: Path, state: SupervisorState) -> None:
    """Record ``state`` at ``path`` atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    partial.write_bytes(msgspec.json.format(msgspec.json.encode(state), indent=2) + b"\n")
    partial.replace(path)

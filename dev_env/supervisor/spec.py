"""What the supervisor runs: a named process, how to probe it, and when to give up on it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from dev_env.supervisor.health import HealthCheck


@dataclass(frozen=True)
class RestartPolicy:
    """Restarts with exponential backoff; a service that keeps failing quickly is given up.

    A run shorter than ``quick_failure_s`` is a quick failure; after ``max_quick_failures`` of
    them in a row the service is marked failed. A longer run starts the count afresh.
    """

    initial_backoff_s: float = 1.0
    max_backoff_s: float = 30.0
    quick_failure_s: float = 30.0
    max_quick_failures: int = 5

    def backoff(self, failures: int) -> float:
        """Seconds to wait before the restart after ``failures`` failures in a row (1 or more)."""
        return float(min(self.initial_backoff_s * 2 ** max(failures - 1, 0), self.max_backoff_s))


@dataclass(frozen=True)
class ProcessSpec:
    """One supervised process.

    Attributes:
        name: Unique name; the log is ``<log dir>/<name>.log``.
        argv: The command line.
        env: Its whole environment (None: this process's).
        health: The probe; None means healthy while the process runs.
        ready_timeout_s: How long a start may take to become healthy.
        stop_grace_s: Seconds between SIGTERM and SIGKILL when stopping it.
    """

    name: str
    argv: tuple[str, ...]
    env: Mapping[str, str] | None = None
    health: HealthCheck | None = None
    ready_timeout_s: float = 60.0
    stop_grace_s: float = 15.0

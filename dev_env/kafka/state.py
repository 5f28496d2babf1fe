"""The record of a running broker, kept in its data dir so that any process can find it."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from dev_env.kafka.net import HOST


@dataclass(frozen=True)
class BrokerState:
    """A running broker: enough for any process to reach it and to stop it."""

    pid: int
    port: int
    controller_port: int
    host: str = HOST
    #: The process's start time (``process.start_time``): tells the broker from a recycled pid.
    started: int | None = None

    @property
    def bootstrap(self) -> str:
        """The clients' bootstrap address, ``host:port``."""
        return f"{self.host}:{self.port}"


def read_state(path: Path) -> BrokerState | None:
    """The state recorded at ``path``, or None when there is none (or it is unreadable)."""
    try:
        return BrokerState(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_state(path: Path, state: BrokerState) -> None:
    """Record ``state`` at ``path`` atomically, so a reader never sees half a file."""
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(dataclasses.asdict(state)))
    partial.replace(path)

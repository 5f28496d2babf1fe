"""Where a stack keeps its files: everything lives under one data dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class StackPaths:
    """The files of the stack on ``data_dir``."""

    data_dir: Path

    @property
    def up_dir(self) -> Path:
        """The supervisor's own files."""
        return self.data_dir / "up"

    @property
    def state_file(self) -> Path:
        """The supervisor's state, rewritten on every change (what ``status`` reads)."""
        return self.up_dir / "state.json"

    @property
    def lock_file(self) -> Path:
        """Locked by the running supervisor; holds its pid."""
        return self.up_dir / "supervisor.lock"

    @property
    def log_dir(self) -> Path:
        """Service logs: ``<name>.log``; the queue-manager's steps log under ``steps/``."""
        return self.data_dir / "logs"

    @property
    def supervisor_log(self) -> Path:
        """The supervisor's own output (its status lines)."""
        return self.log_dir / "up.log"

    @property
    def steps_log_dir(self) -> Path:
        """Where the queue-manager's local runner writes step logs (under the data dir)."""
        return self.log_dir / "steps"

    @property
    def kafka_dir(self) -> Path:
        """The data dir of a broker the stack starts."""
        return self.data_dir / "kafka"

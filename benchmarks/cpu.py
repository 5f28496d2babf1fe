"""Where a benchmark's CPU went: this process, its child processes by role, the machine (Linux).

The pipelines share a small machine with the broker and the simulator, so a figure means little
without the cores each part used while it was measured. :class:`CpuMeter` samples cumulative
CPU seconds; :func:`cores` turns two samples into cores used in between, by role.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
#: Roles of child processes, by a text in their command line (the first that matches).
_ROLES = (
    (b"streamforge.cli.sim", "simulator"),
    # started by multiprocessing (parse workers, the store writer), not its resource tracker
    (b"multiprocessing.spawn", "worker processes"),
    (b"java", "broker"),
)
_THIS_PROCESS = "this process"
_MACHINE_BUSY = "machine busy"


def process_seconds(pid: int | None) -> float:
    """CPU seconds (user and system) that process ``pid`` has used; NaN if unknown."""
    if pid is None:
        return math.nan
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / _TICKS


def _children() -> list[int]:
    """The process ids of this process's children."""
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        pids += [int(p) for p in (task / "children").read_text().split()]
    return pids


def _role(pid: int) -> str | None:
    try:
        command = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    if not command:
        return None  # exited, not yet waited for: its CPU is no longer counted here
    return next((role for text, role in _ROLES if text in command), "other children")


@dataclass(frozen=True)
class Sample:
    """Cumulative CPU seconds at one moment: this process, each child (with its role), and the
    whole machine (busy, all cores)."""

    wall: float
    this_process: float
    children: dict[int, tuple[str, float]]
    machine_busy: float


class CpuMeter:
    """Samples the CPU seconds used so far by this process, its children and the machine."""

    def sample(self) -> Sample:
        """The CPU seconds used so far."""
        running: dict[int, tuple[str, float]] = {}
        for pid in _children():
            role, seconds = _role(pid), process_seconds(pid)
            if role is not None and not math.isnan(seconds):
                running[pid] = (role, seconds)
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]
        busy = (sum(fields) - idle) / _TICKS
        return Sample(time.monotonic(), time.process_time(), running, busy)


def cores(before: Sample, after: Sample) -> dict[str, float]:
    """Cores used between two samples by this process, by each role of child processes (a
    child started in between counts from its start; one that ended in between is not
    counted), by the machine, and by the rest of the machine: a broker that is not a child,
    other users."""
    wall = after.wall - before.wall
    used = {_THIS_PROCESS: (after.this_process - before.this_process) / wall}
    for pid, (role, seconds) in after.children.items():
        start = before.children.get(pid, (role, 0.0))[1]
        used[role] = used.get(role, 0.0) + (seconds - start) / wall
    accounted = sum(used.values())
    used[_MACHINE_BUSY] = (after.machine_busy - before.machine_busy) / wall
    used["other (not children)"] = used[_MACHINE_BUSY] - accounted
    return used


def describe(used: dict[str, float]) -> str:
    """``name 0.42, ...`` for :func:`cores`' result."""
    return ", ".join(f"{name} {value:.2f}" for name, value in used.items())

"""Where a benchmark's CPU went: this process, its child processes by role, the machine (Linux).

The pipelines share a small machine with the broker and the simulator, so a figure means little
without the cores each part used while it was measured. :class:`CpuMeter` samples cumulative
CPU seconds; :func:`cores` turns two samples into cores used in between.
"""

from __future__ import annotations

import math
import os
import time
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")
#: Roles of child processes, by a text in their command line (the first that matches).
_ROLES = (
    (b"streamforge.cli.sim", "simulator"),
    (b"multiprocessing.spawn", "worker processes"),  # not its resource tracker
    (b"java", "broker"),
)
THIS_PROCESS = "this process"
MACHINE_BUSY = "machine busy"
_WALL = "wall"


def process_seconds(pid: int | None) -> float:
    """CPU seconds (user and system) that process ``pid`` has used; NaN if unknown."""
    if pid is None:
        return math.nan
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return math.nan
    return (int(fields[11]) + int(fields[12])) / _TICKS


def children() -> list[int]:
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


class CpuMeter:
    """Samples the CPU seconds used so far by this process, its children (summed by role)
    and the whole machine (busy, all cores)."""

    def sample(self) -> dict[str, float]:
        """Cumulative CPU seconds by consumer, :data:`MACHINE_BUSY`, and a wall clock."""
        usage = {THIS_PROCESS: time.process_time()}
        for pid in children():
            role, seconds = _role(pid), process_seconds(pid)
            if role is not None and not math.isnan(seconds):
                usage[role] = usage.get(role, 0.0) + seconds
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = fields[3] + fields[4]
        usage[MACHINE_BUSY] = (sum(fields) - idle) / _TICKS
        usage[_WALL] = time.monotonic()
        return usage


def cores(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """Cores each consumer used between two samples (those present in both), and what the
    machine was busy with besides (a broker that is not a child, other users)."""
    wall = after[_WALL] - before[_WALL]
    used = {
        name: (after[name] - before[name]) / wall
        for name in after
        if name in before and name != _WALL
    }
    accounted = sum(v for k, v in used.items() if k != MACHINE_BUSY)
    used["other (not children)"] = used[MACHINE_BUSY] - accounted
    return used


def describe(used: dict[str, float]) -> str:
    """``name 0.42, ...`` for :func:`cores`' result."""
    return ", ".join(f"{name} {value:.2f}" for name, value in used.items())

"""From outside the supervisor: is a stack running, and taking it down."""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass, field

from dev_env.kafka.process import process_alive
from dev_env.supervisor.paths import StackPaths
from dev_env.supervisor.process import stop_group
from dev_env.supervisor.state import SupervisorState, read_state

#: Long enough for a supervisor to cancel the workflow and stop every service in turn.
SUPERVISOR_STOP_S = 180.0
_LEFTOVER_GRACE_S = 15.0
_POLL_S = 0.2


def running_stack(paths: StackPaths) -> SupervisorState | None:
    """The state of the stack on the data dir while its supervisor runs; None otherwise."""
    state = read_state(paths.state_file)
    if state is None or not process_alive(state.pid, state.pid_started):
        return None
    return state


def left_running(paths: StackPaths) -> list[str]:
    """Services of the data dir's last stack that still run although its supervisor does
    not (it was killed): ``down`` stops them."""
    state = read_state(paths.state_file)
    if state is None or process_alive(state.pid, state.pid_started):
        return []
    return [
        record.name
        for record in state.services
        if record.pid is not None and process_alive(record.pid, record.pid_started)
    ]


@dataclass(frozen=True)
class DownResult:
    """What :func:`take_down` found and did.

    Attributes:
        supervisor: The pid of the supervisor that was stopped; None if none was running.
        swept: Services that outlived their supervisor and were stopped here.
        remaining: Services that would not die.
    """

    supervisor: int | None
    swept: list[str] = field(default_factory=list)
    remaining: list[str] = field(default_factory=list)


def take_down(paths: StackPaths, timeout_s: float = SUPERVISOR_STOP_S) -> DownResult:
    """Stop the stack on the data dir and wait until none of its processes is left.

    The supervisor gets SIGTERM and stops its services itself (SIGKILL after ``timeout_s``);
    any recorded process still alive after that (its supervisor was killed, say) is stopped
    with its process group.
    """
    state = read_state(paths.state_file)
    if state is None:
        return DownResult(None)
    stopped: int | None = None
    if process_alive(state.pid, state.pid_started):
        stopped = state.pid
        # Only the supervisor itself: in the foreground its group may be the caller's shell's.
        os.kill(state.pid, signal.SIGTERM)
        if not _gone(state, timeout_s):
            os.kill(state.pid, signal.SIGKILL)
            _gone(state, _LEFTOVER_GRACE_S)
        state = read_state(paths.state_file) or state  # its last word has the final pids
    swept: list[str] = []
    remaining: list[str] = []
    for record in state.services:
        if record.pid is None or not process_alive(record.pid, record.pid_started):
            continue
        swept.append(record.name)
        if not stop_group(record.pid, record.pid_started, _LEFTOVER_GRACE_S):
            remaining.append(record.name)
    return DownResult(stopped, swept, remaining)


def _gone(state: SupervisorState, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while process_alive(state.pid, state.pid_started):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True

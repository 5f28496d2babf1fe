"""``streamforge up --detach``: the supervisor as a background process, waited on until the
stack is healthy."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from dev_env.kafka.process import reap, spawn
from dev_env.supervisor.control import take_down
from dev_env.supervisor.errors import StackStartError
from dev_env.supervisor.lock import StackLock
from dev_env.supervisor.paths import StackPaths
from dev_env.supervisor.state import ServiceState, SupervisorState, read_state

_POLL_S = 0.25


def start_detached(
    paths: StackPaths,
    argv: Sequence[str],
    env: Mapping[str, str],
    timeout_s: float,
    progress: Callable[[str], None] = lambda _: None,
) -> SupervisorState:
    """Run ``argv`` (a supervisor in the foreground) in a session of its own, its output in
    the supervisor log, and return its state once every service is healthy. Each line the
    supervisor logs meanwhile is handed to ``progress``.

    When the stack does not come up within ``timeout_s`` (or at all), whatever it started is
    taken down and :class:`StackStartError` says why and where the logs are.
    """
    StackLock(paths).check_free()
    paths.log_dir.mkdir(parents=True, exist_ok=True)
    pid = spawn(argv, env, paths.supervisor_log, new_session=True)
    try:
        return _wait_healthy(paths, pid, timeout_s, _LogTail(paths.supervisor_log, progress))
    except BaseException:
        take_down(paths)
        raise


def _wait_healthy(paths: StackPaths, pid: int, timeout_s: float, log: _LogTail) -> SupervisorState:
    deadline = time.monotonic() + timeout_s
    while True:
        code = reap(pid)
        log.follow()
        state = read_state(paths.state_file)
        ours = state if state is not None and state.pid == pid else None
        if code is not None:
            why = ours.error if ours is not None and ours.error else f"exit code {code}"
            raise StackStartError(f"the stack did not come up: {why}; see {paths.supervisor_log}")
        if ours is not None and ours.healthy:
            return ours
        if time.monotonic() >= deadline:
            raise StackStartError(
                f"the stack was not healthy within {timeout_s:g}s"
                f"{_not_healthy(ours)}; see the logs in {paths.log_dir}"
            )
        time.sleep(_POLL_S)


def _not_healthy(state: SupervisorState | None) -> str:
    if state is None:
        return ""
    names = [s.name for s in state.services if s.state is not ServiceState.HEALTHY]
    return f" (not healthy: {', '.join(names)})" if names else f" ({state.phase.value})"


class _LogTail:
    """Hands each complete line added to a file to ``line``."""

    def __init__(self, path: Path, line: Callable[[str], None]) -> None:
        self._path = path
        self._line = line
        self._offset = 0

    def follow(self) -> None:
        try:
            with self._path.open("rb") as handle:
                handle.seek(self._offset)
                added = handle.read()
        except OSError:
            return
        complete = added[: added.rfind(b"\n") + 1]
        self._offset += len(complete)
        for line in complete.decode(errors="replace").splitlines():
            self._line(line)

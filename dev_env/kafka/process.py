"""Spawn the broker's JVM and follow it by pid, from the process that started it or any other."""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path


def spawn(
    argv: Sequence[str], env: Mapping[str, str], output: Path, new_session: bool = False
) -> int:
    """Start ``argv`` with stdout and stderr into ``output``; its pid.

    ``new_session`` detaches it from this terminal so it outlives this process and its Ctrl-C.
    There is no ``Popen`` object to keep alive: the pid is all any process needs.
    """
    file_actions = [
        (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
        (os.POSIX_SPAWN_OPEN, 1, str(output), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644),
        (os.POSIX_SPAWN_DUP2, 1, 2),
    ]
    return os.posix_spawn(argv[0], list(argv), dict(env), file_actions=file_actions, setsid=new_session)


def reap(pid: int) -> int | None:
    """The exit code of child ``pid`` once it has exited (reaping it), None while it runs.

    Raises ChildProcessError when ``pid`` is not an unreaped child of this process.
    """
    reaped, status = os.waitpid(pid, os.WNOHANG)
    return os.waitstatus_to_exitcode(status) if reaped else None


def process_alive(pid: int, marker: str) -> bool:
    """Whether process ``pid`` runs and, where ``/proc`` tells, has ``marker`` in its command line.

    The marker guards against a recycled pid. A dead child of this process is reaped on the way.
    """
    try:
        if reap(pid) is not None:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    proc = Path("/proc") / str(pid)
    if not proc.is_dir():
        return True
    try:
        stat = (proc / "stat").read_text()
        cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return False
    zombie = stat.rpartition(")")[2].split()[0] == "Z"
    return not zombie and marker in cmdline

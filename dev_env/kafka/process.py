"""Spawn the broker's JVM and follow it by pid, from the process that started it or any other."""

from __future__ import annotations

import os
import signal
from collections.abc import Mapping, Sequence
from pathlib import Path

_HAS_PROC = Path("/proc/self/stat").is_file()


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
    return os.posix_spawn(
        argv[0],
        list(argv),
        dict(env),
        file_actions=file_actions,
        setsid=new_session,
        # Python ignores these two; the JVM should see them as any program does.
        setsigdef=(signal.SIGPIPE, signal.SIGXFSZ),
    )


def start_time(pid: int) -> int | None:
    """When process ``pid`` started, in clock ticks since boot; None without ``/proc``.

    Together with the pid it names one process: a recycled pid has another start time.
    """
    fields = _stat(pid)
    return None if fields is None else int(fields[19])


def reap(pid: int) -> int | None:
    """The exit code of child ``pid`` once it has exited (reaping it), None while it runs.

    Raises ChildProcessError when ``pid`` is not an unreaped child of this process.
    """
    reaped, status = os.waitpid(pid, os.WNOHANG)
    return os.waitstatus_to_exitcode(status) if reaped else None


def process_alive(pid: int, started: int | None) -> bool:
    """Whether the process ``pid`` that started at ``started`` (see :func:`start_time`) runs.

    A child of this process that has exited is reaped on the way.
    """
    if started is not None and start_time(pid) not in (None, started):
        return False  # the pid names another process now
    try:
        return reap(pid) is None  # a child of ours: only waitpid knows when it is gone
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    fields = _stat(pid)
    if fields is None:
        return not _HAS_PROC  # without /proc, existence is all there is to know
    # A multi-threaded process shows as a zombie as soon as its main thread has exited;
    # it is gone only once its other threads are too.
    return fields[0] != "Z" or _thread_count(pid) > 1


def _thread_count(pid: int) -> int:
    try:
        return len(os.listdir(Path("/proc") / str(pid) / "task"))
    except OSError:
        return 0


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first)."""
    try:
        stat = (Path("/proc") / str(pid) / "stat").read_text()
    except OSError:
        return None
    return stat.rpartition(")")[2].split()

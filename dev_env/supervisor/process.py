"""Supervised processes: each leads a session (so a process group) of its own, so that Ctrl-C
in the terminal reaches only the supervisor, and stopping a service reaches all it started."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shlex
import signal
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from dev_env.kafka.process import process_alive

_POLL_S = 0.1
_KILL_WAIT_S = 10.0


async def launch(
    argv: Sequence[str], env: Mapping[str, str] | None, log: Path
) -> asyncio.subprocess.Process:
    """Start ``argv`` in a new session, stdin from ``/dev/null``, output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    try:
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
        os.write(fd, f"--- {stamp} starting: {shlex.join(argv)}\n".encode())
        return await asyncio.create_subprocess_exec(
            *argv,
            stdin=asyncio.subprocess.DEVNULL,
            stdout=fd,
            stderr=asyncio.subprocess.STDOUT,
            env=None if env is None else dict(env),
            start_new_session=True,
        )
    finally:
        os.close(fd)


def signal_group(pgid: int, signum: signal.Signals) -> None:
    """Signal process group ``pgid``; a group that is gone already is no error."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


async def stop_child(process: asyncio.subprocess.Process, grace_s: float) -> int:
    """SIGTERM the group our child ``process`` leads, SIGKILL it after ``grace_s``; the exit
    code. Whatever is left of the group once the child has exited is killed too."""
    signal_group(process.pid, signal.SIGTERM)
    try:
        code = await asyncio.wait_for(process.wait(), grace_s)
    except TimeoutError:
        signal_group(process.pid, signal.SIGKILL)
        code = await process.wait()
    signal_group(process.pid, signal.SIGKILL)
    return code


def stop_group(pid: int, started: int | None, grace_s: float) -> bool:
    """Stop the group led by ``pid`` (a process of any parent, named by its start ticks
    ``started``): SIGTERM, SIGKILL after ``grace_s``. False if it would not die."""
    if not process_alive(pid, started):
        return True
    signal_group(pid, signal.SIGTERM)
    if _wait_gone(pid, started, grace_s):
        signal_group(pid, signal.SIGKILL)
        return True
    signal_group(pid, signal.SIGKILL)
    return _wait_gone(pid, started, _KILL_WAIT_S)


def _wait_gone(pid: int, started: int | None, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while process_alive(pid, started):
        if time.monotonic() >= deadline:
            return False
        time.sleep(_POLL_S)
    return True

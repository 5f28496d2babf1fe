"""The ``local`` runner: every step is a ``python -m streamforge run ...`` child process.

Each child runs in a session (and so a process group) of its own: a Ctrl-C in the caller's
terminal does not reach it, and stopping it signals the whole group. Its stdin is ``/dev/null``;
its stdout and stderr are appended to ``<log_dir>/<queue_id>/<step>.<attempt>.log``.

A ref reads ``local:<pid>:<start_ticks>``, the start ticks being field 22 of
``/proc/<pid>/stat``: together they name one process even once its pid has been reused, which is
what :meth:`LocalRunner.adopt` checks. Adoption therefore needs ``/proc``, i.e. Linux; elsewhere
``adopt`` logs a warning and returns False, while launching and stopping work everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
import signal
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, NamedTuple

from streamforge.orchestration.runner import Runner, StepExit, StepLaunch

log = logging.getLogger(__name__)

#: Seconds between two checks whether an adopted process (not our child) still runs.
ADOPTED_POLL_S = 0.5
UNOBSERVED = "exited while unobserved (status unknown)"

_PROC = Path("/proc")
_REF = re.compile(r"local:([1-9][0-9]*):([1-9][0-9]*)")


class _Stat(NamedTuple):
    state: str
    pgrp: int
    start_ticks: int


def _read_stat(pid: int) -> _Stat | None:
    """Fields 3, 5 and 22 of ``/proc/<pid>/stat``; None when there is no such process."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    # Field 2 (the command name, in parentheses) may itself hold spaces and ')'.
    fields = text[text.rindex(")") + 2 :].split()
    return _Stat(fields[0], int(fields[2]), int(fields[19]))


@dataclass(frozen=True)
class _Identity:
    """One process: its pid and its start time, which tells it from a later one with that pid."""

    pid: int
    start_ticks: int

    @property
    def ref(self) -> str:
        return f"local:{self.pid}:{self.start_ticks}"

    @classmethod
    def parse(cls, ref: str) -> _Identity | None:
        match = _REF.fullmatch(ref)
        return cls(int(match[1]), int(match[2])) if match else None

    def running(self) -> bool:
        """Whether this very process still runs (a zombie has ended), leading its process
        group as every step does: that group is what a stop signals."""
        stat = _read_stat(self.pid)
        return (
            stat is not None
            and stat.start_ticks == self.start_ticks
            and stat.pgrp == self.pid
            and stat.state not in ("Z", "X")
        )


def ref_process(ref: str) -> tuple[int, int] | None:
    """The pid and start ticks of the process a ref names; None for another runner's ref."""
    identity = _Identity.parse(ref)
    return None if identity is None else (identity.pid, identity.start_ticks)


@dataclass
class _Tracked:
    identity: _Identity
    #: Our child, or None for a process adopted from an earlier runner.
    process: asyncio.subprocess.Process | None
    watcher: asyncio.Task[None]


class LocalRunner(Runner):
    """Runs steps as local service processes; see the module docstring."""

    name: ClassVar[str] = "local"

    def __init__(
        self,
        log_dir: Path,
        *,
        python: str = sys.executable,
        base_env: Mapping[str, str] | None = None,
    ) -> None:
        """``base_env`` (default: this process's environment) plus each launch's ``env`` is
        the environment of a step."""
        super().__init__()
        self.log_dir = log_dir
        self.python = python
        self.base_env = base_env
        self._tracked: dict[str, _Tracked] = {}

    async def launch(self, launch: StepLaunch) -> str:
        """Spawn the step's service; its output goes to :meth:`log_path`."""
        log_fd = _open_log(self.log_path(launch))
        try:
            process = await asyncio.create_subprocess_exec(
                self.python,
                "-m",
                "streamforge",
                *launch.command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=log_fd,
                stderr=asyncio.subprocess.STDOUT,
                env={**(os.environ if self.base_env is None else self.base_env), **launch.env},
                start_new_session=True,
            )
        finally:
            os.close(log_fd)
        # Unreadable only without /proc: such a ref is never adopted.
        stat = _read_stat(process.pid)
        identity = _Identity(process.pid, stat.start_ticks if stat else 0)
        self._track(identity, process)
        log.info(
            "launched %s step %s attempt %d of %s as %s",
            launch.service,
            launch.step,
            launch.attempt,
            launch.queue_id,
            identity.ref,
        )
        return identity.ref

    def log_path(self, launch: StepLaunch) -> Path:
        """Where the output of ``launch`` goes."""
        queue_dir = self.log_dir / _file_name(launch.queue_id)
        return queue_dir / f"{_file_name(launch.step)}.{launch.attempt}.log"

    async def stop(self, ref: str, grace_s: float = 10.0) -> None:
        """SIGTERM the step's process group, SIGKILL it after ``grace_s``; a ref this runner
        does not track (ended, or never launched or adopted) is ignored."""
        tracked = self._tracked.get(ref)
        if tracked is None:
            return
        _signal(tracked, signal.SIGTERM)
        done, _ = await asyncio.wait({tracked.watcher}, timeout=grace_s)
        if not done:
            log.warning("%s did not stop within %g s: killing it", ref, grace_s)
            _signal(tracked, signal.SIGKILL)
            await asyncio.wait({tracked.watcher})

    async def adopt(self, ref: str) -> bool:
        """Watch a process an earlier runner launched, by polling ``/proc``; its exit code is
        lost with its parent, so its :class:`StepExit` has ``code=None``."""
        if ref in self._tracked:
            return True
        identity = _Identity.parse(ref)
        if identity is None:
            return False
        if not _PROC.joinpath("self", "stat").exists():
            log.warning("cannot adopt %s: adoption needs /proc (Linux)", ref)
            return False
        if not identity.running():
            return False
        self._track(identity, None)
        log.info("adopted %s", ref)
        return True

    def tracked(self) -> set[str]:
        """Refs of the processes this runner watches."""
        return set(self._tracked)

    async def close(self, *, stop_running: bool) -> None:
        """Stop watching; ``stop_running`` first stops every tracked process (and reports
        its exit), otherwise they run on, for a later runner to adopt."""
        if stop_running:
            await asyncio.gather(*(self.stop(ref) for ref in self.tracked()))
        watchers = [tracked.watcher for tracked in self._tracked.values()]
        self._tracked.clear()
        for watcher in watchers:
            watcher.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)

    def _track(self, identity: _Identity, process: asyncio.subprocess.Process | None) -> None:
        watch = self._watch_adopted(identity) if process is None else self._watch(identity, process)
        watcher = asyncio.create_task(watch, name=f"watch {identity.ref}")
        self._tracked[identity.ref] = _Tracked(identity, process, watcher)

    async def _watch(self, identity: _Identity, process: asyncio.subprocess.Process) -> None:
        code = await process.wait()
        self._report(identity.ref, code, describe_exit(code))

    async def _watch_adopted(self, identity: _Identity) -> None:
        # Not our child: there is no exit to wait for, only /proc to look at.
        while True:
            await asyncio.sleep(ADOPTED_POLL_S)
            if not identity.running():
                break
        self._report(identity.ref, None, UNOBSERVED)

    def _report(self, ref: str, code: int | None, reason: str) -> None:
        del self._tracked[ref]
        log.info("%s %s", ref, reason)
        self.exits.put_nowait(StepExit(ref, code, reason))


def _signal(tracked: _Tracked, sig: signal.Signals) -> None:
    """Signal the process group of ``tracked`` unless its leader has ended (its pid may have
    been reused since)."""
    if tracked.process is not None:
        if tracked.process.returncode is not None:
            return
    elif not tracked.identity.running():
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(tracked.identity.pid, sig)


def describe_exit(code: int) -> str:
    """How a process ended, from its exit status (``-N``: killed by signal ``N``)."""
    if code >= 0:
        return f"exited with code {code}"
    try:
        name = signal.Signals(-code).name
    except ValueError:
        name = f"signal {-code}"
    return f"killed by {name}"


def _file_name(text: str) -> str:
    """``text`` as one path component; refuses what would lead out of the log directory."""
    if text in ("", ".", "..") or Path(text).name != text:
        raise ValueError(f"not usable as a file name: {text!r}")
    return text


def _open_log(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

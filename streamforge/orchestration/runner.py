"""The interface through which the queue-manager starts workflow steps.

A :class:`Runner` turns a :class:`StepLaunch` into a running service (a local process, a
Kubernetes Job, ...) and reports its end as a :class:`StepExit` on :attr:`Runner.exits`. The
``ref`` a launch returns is plain text the caller may persist: after a restart of the caller, a
new runner takes the step back over with :meth:`Runner.adopt`.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar


@dataclass(frozen=True)
class StepLaunch:
    """One attempt of one workflow step: which service runs, with what."""

    queue_id: str
    step: str
    attempt: int
    #: A ``streamforge run`` sub-command, e.g. ``"loader-history"``.
    service: str
    #: Service options after the shared ones, e.g. ``("--symbol", "BTCUSDT")``.
    args: tuple[str, ...] = ()
    #: Extra environment of the service.
    env: Mapping[str, str] = field(default_factory=dict)

    def command(self) -> tuple[str, ...]:
        """The ``streamforge`` arguments that run this step, tagging its events."""
        return (
            "run",
            self.service,
            "--queue-id",
            self.queue_id,
            "--step",
            self.step,
            "--attempt",
            str(self.attempt),
            *self.args,
        )


@dataclass(frozen=True)
class StepExit:
    """How a launched (or adopted) service ended."""

    ref: str
    #: The exit status (negative ``-N``: killed by signal ``N``); ``None`` when unknown, as for
    #: a process adopted after a restart.
    code: int | None
    #: Human text: ``"exited with code 1"``, ``"killed by SIGKILL"``, ...
    reason: str


class Runner(ABC):
    """Starts services for workflow steps, stops them, and reports every end once."""

    #: The runner's name in configuration, e.g. ``"local"``.
    name: ClassVar[str]

    def __init__(self) -> None:
        #: The end of every tracked process is put here exactly once.
        self.exits: asyncio.Queue[StepExit] = asyncio.Queue()

    @abstractmethod
    async def launch(self, launch: StepLaunch) -> str:
        """Start the step; return a JSON-safe ref that identifies it across a restart."""

    @abstractmethod
    async def stop(self, ref: str, grace_s: float = 10.0) -> None:
        """Ask the step to stop (SIGTERM or the like), kill it after ``grace_s`` seconds, and
        return once it is gone. A ref that has already ended is no error; its exit still
        lands in :attr:`exits`."""

    @abstractmethod
    async def adopt(self, ref: str) -> bool:
        """Track a step an earlier runner launched (after a restart of the caller).

        False when it no longer runs (nothing is put in :attr:`exits` for it) or when the ref
        is malformed or belongs to another kind of runner.
        """

    @abstractmethod
    def tracked(self) -> set[str]:
        """The refs of the steps this runner watches now."""

    @abstractmethod
    async def close(self, *, stop_running: bool) -> None:
        """Stop watching; with ``stop_running``, stop every tracked step first."""

"""Running a real queue-manager process and following its workflows from a test."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from streamforge.config import Settings
from streamforge.orchestration.client import ControlClient
from streamforge.orchestration.follow import WorkflowFollower
from streamforge.orchestration.state import WorkflowState
from streamforge.schemas import Command, CommandName, Event, EventName

FLOWS = Path(__file__).with_name("flows.yaml")


def env_for(settings: Settings, data_dir: Path) -> dict[str, str]:
    """The environment that points a process (and the steps it starts) at the test's Kafka."""
    return {
        **os.environ,
        "STREAMFORGE_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "STREAMFORGE_TOPIC_PREFIX": settings.topic_prefix,
        "STREAMFORGE_DATA_DIR": str(data_dir),
        "STREAMFORGE_STORE_URL": f"sqlite:///{data_dir / 'store.db'}",
    }


class QueueManagerProcess:
    """``streamforge run queue-manager --workflows flows.yaml`` as a child process."""

    def __init__(self, settings: Settings, data_dir: Path, *extra: str) -> None:
        self.env = env_for(settings, data_dir)
        self.log = data_dir / "queue-manager.log"
        self.extra = extra
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> QueueManagerProcess:
        command = [
            *(sys.executable, "-m", "streamforge", "run", "queue-manager"),
            *("--workflows", str(FLOWS), "--loading-interval", "1", *self.extra),
        ]
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(command, env=self.env, stderr=log, stdout=log)
        return self

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, its steps are left running."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> int:
        """SIGTERM and wait; returns the exit code."""
        assert self.process is not None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(30)

    def __enter__(self) -> QueueManagerProcess:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()


class Operator:
    """A client that sends commands and folds every event it reads."""

    def __init__(self, settings: Settings) -> None:
        self.client = ControlClient(settings, from_beginning=True)
        self.follower = WorkflowFollower(self.client)

    async def __aenter__(self) -> Operator:
        await self.client.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.client.stop()

    async def send(
        self, name: CommandName, queue_id: str, payload: dict[str, object] | None = None
    ) -> Event:
        """Send a command to the queue-manager and return its answer."""
        command = Command.new(name, queue_id, target="queue-manager", payload=payload)
        await self.client.send(command)
        answer = await self.follower.answer(command, 60)
        assert answer is not None, f"no answer to {name} {queue_id}"
        return answer

    async def start(self, workflow: str, queue_id: str, **params: object) -> Event:
        return await self.send(
            CommandName.START, queue_id, {"workflow": workflow, "params": params}
        )

    async def until(
        self, queue_id: str, check: Callable[[WorkflowState], bool], wait_s: float = 60
    ) -> WorkflowState:
        """Fold events until ``check`` holds for the workflow."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            for event in await self.client.next_events():
                self.follower.board.apply(event)
            workflow = self.follower.board.get(queue_id)
            if workflow is not None and check(workflow):
                return workflow
        workflow = self.follower.board.get(queue_id)
        raise AssertionError(f"timed out; {queue_id} is {workflow.view() if workflow else None}")

    async def until_rejected(self, queue_id: str, wait_s: float = 30) -> Event:
        """The next ``rejected`` event on ``queue_id``."""
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline:
            for event in await self.client.next_events():
                self.follower.board.apply(event)
                if event.event is EventName.REJECTED and event.queue_id == queue_id:
                    return event
        raise AssertionError(f"no rejection on {queue_id}")

    async def until_done(self, queue_id: str, wait_s: float = 90) -> WorkflowState:
        return await self.until(queue_id, lambda w: w.status.is_terminal, wait_s)


def pid_of(ref: str | None) -> int:
    """The pid in a local runner's ref ``local:<pid>:<start ticks>``."""
    assert ref is not None and ref.startswith("local:")
    return int(ref.split(":")[1])


def running(pid: int) -> bool:
    """Whether a process runs (a zombie does not count)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


async def gone(pid: int, wait_s: float = 30) -> bool:
    """Whether the process ends within ``wait_s``."""
    deadline = time.monotonic() + wait_s
    while running(pid):
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True

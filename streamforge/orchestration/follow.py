"""Following workflows from a client: the answer to a command, then a workflow to its end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from streamforge.orchestration.client import ControlClient
from streamforge.orchestration.state import WorkflowBoard, WorkflowState
from streamforge.schemas import Command, Event, EventName

_ANSWERS = (EventName.ACCEPTED, EventName.REJECTED)


class WorkflowFollower:
    """Folds every event a :class:`ControlClient` reads into :attr:`board`, so nothing read
    while waiting for one thing (an answer) is lost for the next (a workflow's progress)."""

    def __init__(self, client: ControlClient, board: WorkflowBoard | None = None) -> None:
        self.client = client
        self.board = board or WorkflowBoard()

    async def answer(self, command: Command, wait_s: float) -> Event | None:
        """The ``accepted`` or ``rejected`` event answering ``command``; ``None`` if none came
        within ``wait_s`` seconds (no queue-manager running?)."""
        deadline = time.monotonic() + wait_s
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                events = await asyncio.wait_for(self.client.next_events(), remaining)
            except TimeoutError:
                return None
            found: Event | None = None
            for event in events:
                self.board.apply(event)
                if (
                    found is None
                    and event.event in _ANSWERS
                    and event.payload.get("command_id") == command.command_id
                ):
                    found = event
            if found is not None:
                return found
        return None

    async def until_done(
        self,
        queue_id: str,
        on_update: Callable[[WorkflowState], None] = lambda _: None,
        *,
        refresh_s: float = 1.0,
    ) -> WorkflowState:
        """Follow a workflow until it ends; call ``on_update`` when it changes (and at least
        every ``refresh_s`` seconds, for elapsed times)."""
        last_call = 0.0
        while True:
            changed = False
            for event in await self.client.next_events():
                changed |= self.board.apply(event) is not None and event.queue_id == queue_id
            workflow = self.board.get(queue_id)
            if workflow is None:
                continue
            now = time.monotonic()
            if changed or now - last_call >= refresh_s:
                on_update(workflow)
                last_call = now
            if workflow.status.is_terminal:
                return workflow

"""Commands waiting for an answer on the event log, and their deadlines."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from streamforge.schemas import Command, Event


@dataclass(frozen=True)
class Answer:
    """The first event that answered a command."""

    command: Command
    event: Event


class PendingReplies:
    """Tracks sent commands until an event carrying their ``command_id`` arrives or their
    deadline passes; each command is settled once, by its first answer or by its timeout.

    Deadlines are in seconds of one monotonic clock, supplied by the caller.
    """

    def __init__(self) -> None:
        self._waiting: dict[str, tuple[Command, float]] = {}

    def expect(self, command: Command, deadline: float) -> None:
        """Wait for an answer to ``command`` until ``deadline``."""
        self._waiting[command.command_id] = (command, deadline)

    def discard(self, command: Command) -> None:
        """Stop waiting for ``command`` (for instance because sending it failed)."""
        self._waiting.pop(command.command_id, None)

    def answered(self, events: Iterable[Event]) -> list[Answer]:
        """The waiting commands that ``events`` answer; they stop waiting."""
        answers: list[Answer] = []
        for event in events:
            command_id = event.payload.get("command_id")
            if not isinstance(command_id, str) or command_id not in self._waiting:
                continue
            command, _ = self._waiting.pop(command_id)
            answers.append(Answer(command, event))
        return answers

    def expired(self, now: float) -> list[Command]:
        """The commands whose deadline has passed by ``now``; they stop waiting."""
        late = [command for command, deadline in self._waiting.values() if deadline <= now]
        for command in late:
            del self._waiting[command.command_id]
        return late

    def __len__(self) -> int:
        return len(self._waiting)

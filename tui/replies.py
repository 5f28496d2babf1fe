"""Commands the console sent, their answers on the event log, and what to tell the operator.

Every command the console sends waits for the first event carrying its ``command_id``
(``accepted``, ``rejected`` or ``pong``), for a bounded time. The answer arrives through the
event feed, so :meth:`PendingReplies.settle` is called with every batch the feed delivers.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from aiokafka.errors import KafkaError
from textual.notifications import SeverityLevel

from streamforge.schemas import Command, Event, EventName
from tui.feed import FeedUnavailable
from tui.format import format_age

#: Where the console sends workflow commands (the queue-manager's service name).
QUEUE_MANAGER = "queue-manager"
#: Where the console sends watchlist changes (the live market loader's service name).
LOADER_WS = "loader-ws"
#: Events that answer a command.
ANSWERS = frozenset({EventName.ACCEPTED, EventName.REJECTED, EventName.PONG})


@dataclass(frozen=True)
class Outcome:
    """What became of a sent command.

    Attributes:
        command: The command.
        wait_s: How long an answer was waited for.
        answer: The event that answered it; ``None`` if it was not sent or no answer came.
        error: Why it could not be sent (empty if it was sent).
    """

    command: Command
    wait_s: float
    answer: Event | None = None
    error: str = ""

    @property
    def accepted(self) -> bool:
        """Whether it was answered with anything but a rejection."""
        return self.answer is not None and self.answer.event is not EventName.REJECTED

    @property
    def rejection(self) -> tuple[str, str] | None:
        """The field and the reason of a rejection."""
        if self.answer is None or self.answer.event is not EventName.REJECTED:
            return None
        payload = self.answer.payload
        return str(payload.get("field", "")), str(payload.get("reason", ""))


class PendingReplies:
    """Commands waiting for their answer; each is settled once, by its first answer."""

    def __init__(self) -> None:
        self._waiting: dict[str, asyncio.Future[Event]] = {}

    def settle(self, events: Iterable[Event]) -> None:
        """Hand the answers among ``events`` to the commands waiting for them."""
        for event in events:
            if event.event not in ANSWERS:
                continue
            waiting = self._waiting.pop(str(event.payload.get("command_id")), None)
            if waiting is not None and not waiting.done():
                waiting.set_result(event)

    async def ask(
        self, send: Callable[[Command], Awaitable[None]], command: Command, wait_s: float
    ) -> Outcome:
        """Send ``command`` and wait up to ``wait_s`` seconds for its answer."""
        answer = asyncio.get_running_loop().create_future()
        self._waiting[command.command_id] = answer  # before sending: the answer may be quick
        try:
            try:
                await send(command)
            except (FeedUnavailable, KafkaError) as exc:
                return Outcome(command, wait_s, error=str(exc) or type(exc).__name__)
            try:
                async with asyncio.timeout(wait_s):
                    return Outcome(command, wait_s, await answer)
            except TimeoutError:
                return Outcome(command, wait_s)
        finally:
            self._waiting.pop(command.command_id, None)

    def __len__(self) -> int:
        return len(self._waiting)


@dataclass(frozen=True)
class Note:
    """A notification for the operator."""

    title: str
    message: str
    severity: SeverityLevel = "information"


def addressee(command: Command) -> str:
    """Who was expected to answer ``command``, in words."""
    if command.target == QUEUE_MANAGER:
        return "the queue-manager"
    return command.queue_id if command.target == "*" else command.target


def describe(outcome: Outcome) -> Note:
    """The notification telling the operator what became of a command."""
    command, answer = outcome.command, outcome.answer
    name = command.command.value
    if outcome.error:
        return Note(f"{name} to {command.queue_id} not sent", outcome.error, "error")
    if answer is None:
        return Note(
            f"{name} timed out",
            f"no answer from {addressee(command)} within {outcome.wait_s:g} s",
            "warning",
        )
    if outcome.rejection is not None:
        field, reason = outcome.rejection
        return Note(f"{name} rejected", f"{field}: {reason}", "error")
    waited = format_age(max(answer.timestamp - command.timestamp, 0) / 1000)
    if answer.event is EventName.PONG:
        state = answer.payload.get("state", "alive")
        return Note(f"pong from {answer.queue_id}", f"{answer.producer}: {state} (after {waited})")
    symbols = answer.payload.get("symbols")
    detail = f", symbols now {', '.join(map(str, symbols))}" if isinstance(symbols, list) else ""
    return Note(f"{name} accepted", f"{command.queue_id} by {answer.producer}{detail}")

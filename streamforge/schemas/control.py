"""Control-plane contracts: commands on ``queue-control`` and events on ``queue-events``."""

from __future__ import annotations

import time
import uuid
from enum import StrEnum
from typing import Any, Literal

import msgspec

from streamforge.schemas.fields import EpochMillis, QueueId, Target


class CommandName(StrEnum):
    """Every command a producer may put on ``queue-control``."""

    START = "start"
    STOP = "stop"
    PING = "ping"
    RETRY = "retry"
    SUBSCRIBE = "subscribe"
    UNSUBSCRIBE = "unsubscribe"


class EventName(StrEnum):
    """Every event that may appear on ``queue-events``."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    STARTED = "started"
    LOADING = "loading"
    FINISHED = "finished"
    ERROR = "error"
    INTERRUPTED = "interrupted"
    PONG = "pong"
    WORKFLOW_SUBMITTED = "workflow_submitted"
    WORKFLOW_RUNNING = "workflow_running"
    WORKFLOW_SUCCEEDED = "workflow_succeeded"
    WORKFLOW_FAILED = "workflow_failed"
    WORKFLOW_CANCELLED = "workflow_cancelled"
    STEP_PENDING = "step_pending"
    STEP_RUNNING = "step_running"
    STEP_RETRYING = "step_retrying"
    STEP_SUCCEEDED = "step_succeeded"
    STEP_FAILED = "step_failed"
    STEP_CANCELLED = "step_cancelled"


#: Events that end a service run; a service emits exactly one of them.
TERMINAL_EVENTS = frozenset({EventName.FINISHED, EventName.ERROR, EventName.INTERRUPTED})


def now_millis() -> int:
    """The current time in epoch milliseconds."""
    return time.time_ns() // 1_000_000


def new_id() -> str:
    """A fresh random id for commands and events."""
    return str(uuid.uuid4())


class Command(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """An instruction to the queue-manager or to services, keyed by ``queue_id``.

    ``command_id`` makes retries idempotent: a receiver acts on each id once.
    """

    v: Literal[1] = 1
    command_id: str
    command: CommandName
    queue_id: QueueId
    target: Target = "*"
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    issued_by: str
    timestamp: EpochMillis

    @classmethod
    def new(
        cls,
        command: CommandName | str,
        queue_id: str,
        *,
        target: str = "*",
        payload: dict[str, Any] | None = None,
        issued_by: str = "cli",
    ) -> Command:
        """Build a command with a fresh id and the current time, validating every field."""
        raw = {
            "command_id": new_id(),
            "command": command.value if isinstance(command, CommandName) else command,
            "queue_id": queue_id,
            "target": target,
            "payload": payload or {},
            "issued_by": issued_by,
            "timestamp": now_millis(),
        }
        return msgspec.convert(raw, cls)

    def addresses(self, queue_id: str, service: str) -> bool:
        """Whether a service instance running ``queue_id`` should act on this command."""
        return self.queue_id in ("*", queue_id) and self.target in ("*", service)


class Event(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True, gc=False):
    """A fact reported by a service or the queue-manager, keyed by ``queue_id``.

    Not tracked by the cyclic garbage collector (``gc=False``): an event never refers back to
    itself, and readers that fold a long log keep many of them (the collector's scans of them
    cost a third of the fold's time).
    """

    v: Literal[1] = 1
    event_id: str
    queue_id: QueueId
    producer: str
    event: EventName
    payload: dict[str, Any] = msgspec.field(default_factory=dict)
    timestamp: EpochMillis

    @classmethod
    def new(
        cls,
        event: EventName,
        queue_id: str,
        producer: str,
        payload: dict[str, Any] | None = None,
    ) -> Event:
        """Build an event with a fresh id and the current time."""
        return cls(
            event_id=new_id(),
            queue_id=queue_id,
            producer=producer,
            event=event,
            payload=payload or {},
            timestamp=now_millis(),
        )

    @property
    def is_terminal(self) -> bool:
        """Whether this event ends a service run."""
        return self.event in TERMINAL_EVENTS

    @property
    def service(self) -> str:
        """The service part of the ``service__instance`` producer."""
        return self.producer.split("__", 1)[0]

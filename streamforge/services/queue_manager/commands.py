"""Reading ``queue-control`` records: which are the queue-manager's, and whether they are valid.

Every record addressed to the queue-manager gets exactly one answer: it becomes a
:class:`Command` to act on, or a :class:`Rejection` naming the field and the reason. Records
meant for services (``ping``, ``subscribe`` ...) are left to them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import msgspec

from streamforge.schemas import Command, CommandName, error_field

SERVICE = "queue-manager"
#: Commands the queue-manager acts on; services answer the others themselves.
HANDLED = frozenset({CommandName.START, CommandName.STOP, CommandName.RETRY})

_decoder = msgspec.json.Decoder(Command)
_QUEUE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}").fullmatch


@dataclass(frozen=True)
class Rejection:
    """An answer of ``rejected``: ``queue_id`` is where the event goes."""

    command_id: str
    queue_id: str
    field: str
    reason: str
    command: str = ""

    def payload(self) -> dict[str, Any]:
        """The ``rejected`` event payload."""
        return {
            "command_id": self.command_id,
            "command": self.command,
            "field": self.field,
            "reason": self.reason,
        }


def read_command(raw: bytes, key: bytes | None) -> Command | Rejection | None:
    """The command in a ``queue-control`` record, a rejection if it is invalid, or ``None`` if
    it is not the queue-manager's to answer."""
    try:
        command = _decoder.decode(raw)
    except msgspec.DecodeError as exc:
        return _invalid(raw, key, str(exc))
    if command.target not in ("*", SERVICE) or command.command not in HANDLED:
        return None
    if command.queue_id == "*":
        if command.command is CommandName.STOP:
            return None  # stops every service, the queue-manager included: its host does that
        return Rejection(
            command.command_id,
            "*",
            "queue_id",
            f"{command.command.value} needs a workflow's queue id, not '*'",
            command.command.value,
        )
    return command


def _invalid(raw: bytes, key: bytes | None, reason: str) -> Rejection | None:
    try:
        loose = msgspec.json.decode(raw)
    except msgspec.DecodeError:
        loose = None
    if not isinstance(loose, dict):
        queue_id = _queue_id(key.decode(errors="replace") if key else None)
        return Rejection("", queue_id, "command", f"not a JSON command object: {reason}")
    target = loose.get("target", "*")
    if target not in ("*", SERVICE) and isinstance(target, str) and target:
        return None  # plainly another service's command: its host answers for it
    return Rejection(
        _text(loose.get("command_id")),
        _queue_id(loose.get("queue_id")),
        error_field(reason),
        reason,
        _text(loose.get("command")),
    )


def _queue_id(value: object) -> str:
    return value if isinstance(value, str) and _QUEUE_ID(value) else "*"


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""

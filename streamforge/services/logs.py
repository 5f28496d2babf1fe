"""Structured JSON logs, one object a line, with secrets masked."""

from __future__ import annotations

import logging
import sys
from datetime import UTC, datetime
from typing import Any, ClassVar

import msgspec

from streamforge.config.secrets import redact, redact_urls

_encoder = msgspec.json.Encoder()


class JsonFormatter(logging.Formatter):
    """Formats a record as JSON with ``ts``, ``level``, ``logger``, ``message`` and context.

    Fields passed through ``extra=`` and the service context (see :func:`bind_context`) are
    included; every known secret value is masked.
    """

    _RESERVED: ClassVar[frozenset[str]] = frozenset(
        logging.LogRecord("", 0, "", 0, "", None, None).__dict__
    ) | {"message", "asctime", "taskName"}
    context: ClassVar[dict[str, Any]] = {}

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": redact_urls(redact(record.getMessage())),
            **self.context,
        }
        for key, value in record.__dict__.items():
            if key not in self._RESERVED and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = redact(self.formatException(record.exc_info))
        return _encoder.encode(entry).decode()


def bind_context(**fields: Any) -> None:
    """Add fields (service, queue_id, instance) to every following log line."""
    JsonFormatter.context.update(fields)


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """Send logs to stderr, as JSON lines (services) or plain text (interactive CLI)."""
    handler = logging.StreamHandler(sys.stderr)
    if json:
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiokafka").setLevel(max(logging.WARNING, root.level))

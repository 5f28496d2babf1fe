"""Secret values that never show in a repr, a str or a log line."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

_registered: set[str] = set()


class Secret:
    """Wraps a credential; ``str()`` and ``repr()`` show a mask, :meth:`reveal` the value."""

    __slots__ = ("_display", "_value")

    def __init__(self, value: str, display: str = "***") -> None:
        self._value = value
        self._display = display
        if value:
            _registered.add(value)

    def reveal(self) -> str:
        """The real value, for handing to a client library; never log it."""
        return self._value

    def __repr__(self) -> str:
        return f"Secret({self._display!r})"

    def __str__(self) -> str:
        return self._display

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def secret_url(url: str) -> Secret:
    """A URL whose password (if any) is masked when displayed: ``arango://u:***@host/db``."""
    parts = urlsplit(url)
    if parts.password is None:
        return Secret(url, display=url)
    _registered.add(parts.password)
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username}:***@{host}" if parts.username else f":***@{host}"
    secret = Secret(url, display=urlunsplit(parts._replace(netloc=netloc)))
    return secret


def redact(text: str) -> str:
    """Replace every known secret value in ``text`` with ``***``."""
    if not _registered:
        return text
    for value in sorted(_registered, key=len, reverse=True):
        if value in text:
            text = text.replace(value, "***")
    return text


_URL_PASSWORD = re.compile(r"(//[^/:@\s]*:)[^@/\s]+@")


def redact_urls(text: str) -> str:
    """Mask passwords embedded in any URL within ``text``."""
    return _URL_PASSWORD.sub(r"\1***@", text)

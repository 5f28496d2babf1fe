"""The replay format: one JSON object a line, ordered by ``ts``.

``{"t": "ws" | "http", "ts": <epoch seconds>, "url": "<stream or request url>",
"data": "<raw text>"}`` (see ARCHITECTURE.md). Recordings of real exchanges and the simulator's
``--replay`` mode both use it.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import msgspec


class ReplayEntry(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One recorded WebSocket frame (``t == "ws"``) or HTTP response (``t == "http"``)."""

    t: Literal["ws", "http"]
    ts: float
    url: str
    data: str


class ReplayFormatError(ValueError):
    """A line of a replay file that is not a valid entry; names the file and line."""


_decoder = msgspec.json.Decoder(ReplayEntry)


def read_replay(path: str | Path) -> Iterator[ReplayEntry]:
    """Yield the entries of a replay file in file order, failing on the first bad line."""
    with Path(path).open("rb") as fh:
        for number, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield _decoder.decode(line)
            except msgspec.DecodeError as exc:
                raise ReplayFormatError(f"{path}:{number}: {exc}") from None

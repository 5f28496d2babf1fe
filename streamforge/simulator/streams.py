"""Binance market stream names: ``<symbol>@<kind>`` with a lower-case symbol."""

from __future__ import annotations

import re

from streamforge.exchanges.binance.intervals import INTERVALS

_KINDS = (
    "trade|aggTrade|bookTicker|miniTicker|ticker|avgPrice|depth(?:5|10|20)?(?:@100ms|@1000ms)?"
    f"|kline_(?:{'|'.join(INTERVALS)})"
)
_NAME = re.compile(rf"^[a-z0-9]{{2,30}}@(?P<kind>{_KINDS})$")

#: The most streams one connection may listen to.
MAX_STREAMS = 1024


def stream_kind(name: str) -> str | None:
    """What a stream carries (``aggTrade``, ``depth@100ms``, ``kline_1m``, ...), or None when
    Binance would not know the name."""
    match = _NAME.match(name)
    return match["kind"] if match else None


def stream_names(path: str, query_streams: str | None) -> list[str]:
    """Streams named by a connection URL: ``/ws/<a>/<b>`` or ``/stream?streams=<a>/<b>``."""
    raw = query_streams if query_streams is not None else path.partition("/ws")[2]
    return [name for name in raw.split("/") if name]

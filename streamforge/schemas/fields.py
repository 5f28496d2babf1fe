"""Constrained field types shared by every wire contract."""

from __future__ import annotations

from typing import Annotated

import msgspec

DECIMAL_PATTERN = r"[0-9]+(?:\.[0-9]+)?"
SYMBOL_PATTERN = r"[A-Z0-9]{2,30}"
EXCHANGE_PATTERN = r"[a-z][a-z0-9_]{1,31}"


# The patterns go into the JSON Schema only: market records check their texts in one pass in
# ``__post_init__`` (see ``streamforge.schemas.market``), several times faster than msgspec's
# per-field pattern constraints.

#: A price or quantity exactly as the exchange wrote it (never a float).
Decimal = Annotated[
    str,
    msgspec.Meta(
        description="Non-negative decimal number as text, exactly as the exchange sent it.",
        extra_json_schema={"pattern": f"^{DECIMAL_PATTERN}$"},
    ),
]
#: Upper-case exchange symbol such as ``BTCUSDT``.
Symbol = Annotated[
    str,
    msgspec.Meta(
        description="Upper-case symbol, e.g. BTCUSDT.",
        extra_json_schema={"pattern": f"^{SYMBOL_PATTERN}$"},
    ),
]
#: Lower-case exchange name such as ``binance``.
Exchange = Annotated[
    str,
    msgspec.Meta(
        description="Lower-case exchange name.",
        extra_json_schema={"pattern": f"^{EXCHANGE_PATTERN}$"},
    ),
]
#: Epoch milliseconds (UTC).
EpochMillis = Annotated[int, msgspec.Meta(ge=0, description="Epoch milliseconds, UTC.")]
#: A non-negative exchange-assigned id (trade id, update id).
ExchangeId = Annotated[int, msgspec.Meta(ge=0)]
#: Identifier of a workflow or job (also the key of its control and event records).
QueueId = Annotated[
    str,
    msgspec.Meta(
        pattern=r"^(\*|[A-Za-z0-9][A-Za-z0-9_.\-]{0,127})$",
        description="Workflow or job id; '*' addresses every queue.",
    ),
]
#: A service name or ``*``.
Target = Annotated[
    str,
    msgspec.Meta(pattern=r"^(\*|[a-z][a-z0-9\-]{0,63})$", description="Service name or '*'."),
]
#: One price level: ``[price, quantity]``.
Level = tuple[Decimal, Decimal]

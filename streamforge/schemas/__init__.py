"""Wire contracts: strict, versioned JSON records shared by every StreamForge component."""

from streamforge.schemas.codec import (
    Codec,
    ContractError,
    Decoder,
    RawCodec,
    encode,
    error_field,
)
from streamforge.schemas.control import (
    TERMINAL_EVENTS,
    Command,
    CommandName,
    Event,
    EventName,
    new_id,
    now_millis,
)
from streamforge.schemas.market import (
    BBO,
    AnyMarketRecord,
    BookSnapshot,
    Candle,
    DepthDiff,
    MarketRecord,
    Ticker,
    Trade,
)

__all__ = [
    "BBO",
    "TERMINAL_EVENTS",
    "AnyMarketRecord",
    "BookSnapshot",
    "Candle",
    "Codec",
    "Command",
    "CommandName",
    "ContractError",
    "Decoder",
    "DepthDiff",
    "Event",
    "EventName",
    "MarketRecord",
    "RawCodec",
    "Ticker",
    "Trade",
    "encode",
    "error_field",
    "new_id",
    "now_millis",
]

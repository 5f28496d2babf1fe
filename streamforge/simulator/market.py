"""The synthetic market: one deterministic history per symbol, all from one seed."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, date, datetime, time
from functools import lru_cache

from streamforge.simulator.history import SymbolHistory
from streamforge.simulator.symbols import spec_for


@lru_cache(maxsize=64)
def _history(symbol: str, seed: int, trade_rate: float, genesis_ms: int) -> SymbolHistory:
    # Shared between simulators of one process: a history is a pure function of these values.
    return SymbolHistory(spec_for(symbol), seed=seed, trade_rate=trade_rate, genesis_ms=genesis_ms)


class Market:
    """The symbols of a seeded market and their histories since ``genesis`` (00:00 UTC)."""

    def __init__(
        self, symbols: Iterable[str], *, seed: int, trade_rate: float, genesis: date
    ) -> None:
        self.genesis_ms = int(datetime.combine(genesis, time(), UTC).timestamp() * 1000)
        self.histories = {
            symbol.upper(): _history(symbol.upper(), seed, trade_rate, self.genesis_ms)
            for symbol in symbols
        }

    def prepare(self, until_ms: int) -> None:
        """Walk every history up to ``until_ms`` now rather than on the first request."""
        for history in self.histories.values():
            history.last_trade_before(until_ms)

    def get(self, symbol: str) -> SymbolHistory | None:
        """The history of an upper-case symbol, if the market lists it."""
        return self.histories.get(symbol)

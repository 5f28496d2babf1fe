"""Trading rules of the simulated symbols and Binance's fixed eight-decimal number text.

Prices are integers counted in ticks and quantities integers counted in lots, so every sum the
simulator publishes (volumes, quote volumes) is exact. A symbol's tick and lot are powers of ten
whose decimals add up to at most eight, so a price times a quantity still fits Binance's eight
decimals without rounding.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

DECIMALS = 8
_ONE = 10**DECIMALS

_QUOTE_ASSETS = ("USDT", "FDUSD", "USDC", "BUSD", "TUSD", "BTC", "ETH", "BNB", "EUR", "TRY")


def fmt8(units: int) -> str:
    """Format a non-negative amount counted in 1e-8 units as Binance does: ``"12.34000000"``."""
    return f"{units // _ONE}.{units % _ONE:08d}"


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """One symbol: its assets, tick and lot (decimal places) and the level its price hovers at."""

    symbol: str
    base: str
    quote: str
    tick_decimals: int
    lot_decimals: int
    reference_price: float
    #: Typical value of one aggregate trade, in the quote asset.
    trade_notional: float

    def __post_init__(self) -> None:
        if self.tick_decimals + self.lot_decimals > DECIMALS:
            raise ValueError(f"{self.symbol}: tick and lot decimals must add up to at most 8")

    @property
    def tick_size(self) -> str:
        """The PRICE_FILTER tickSize text."""
        return fmt8(10 ** (DECIMALS - self.tick_decimals))

    @property
    def step_size(self) -> str:
        """The LOT_SIZE stepSize text."""
        return fmt8(10 ** (DECIMALS - self.lot_decimals))

    @property
    def reference_ticks(self) -> int:
        """The reference price counted in ticks."""
        return round(self.reference_price * 10.0**self.tick_decimals)

    @property
    def reference_lots_per_trade(self) -> float:
        """The typical aggregate trade size counted in lots."""
        return self.trade_notional / self.reference_price * 10.0**self.lot_decimals

    def price(self, ticks: int) -> str:
        """Price text of a number of ticks."""
        return fmt8(ticks * 10 ** (DECIMALS - self.tick_decimals))

    def qty(self, lots: int) -> str:
        """Quantity text of a number of lots."""
        return fmt8(lots * 10 ** (DECIMALS - self.lot_decimals))

    def quote_amount(self, tick_lots: int) -> str:
        """Quote volume text of a sum of ticks times lots."""
        return fmt8(tick_lots * 10 ** (DECIMALS - self.tick_decimals - self.lot_decimals))


_KNOWN: dict[str, tuple[int, int, float, float]] = {
    # symbol: (tick decimals, lot decimals, reference price, typical trade notional)
    "BTCUSDT": (2, 5, 64_000.0, 2_500.0),
    "ETHUSDT": (2, 4, 3_200.0, 1_500.0),
    "BNBUSDT": (2, 3, 580.0, 600.0),
    "SOLUSDT": (2, 3, 150.0, 500.0),
    "XRPUSDT": (4, 1, 0.6, 300.0),
    "DOGEUSDT": (5, 0, 0.15, 200.0),
    "ETHBTC": (5, 3, 0.05, 0.02),
    "BNBBTC": (6, 2, 0.009, 0.005),
}


def _split(symbol: str) -> tuple[str, str]:
    for quote in _QUOTE_ASSETS:
        if symbol.endswith(quote) and len(symbol) > len(quote):
            return symbol[: -len(quote)], quote
    return symbol[:-3], symbol[-3:]


def spec_for(symbol: str) -> SymbolSpec:
    """Rules for ``symbol``: a table of familiar symbols, else plausible rules from its name."""
    symbol = symbol.upper()
    base, quote = _split(symbol)
    if symbol in _KNOWN:
        tick, lot, price, notional = _KNOWN[symbol]
        return SymbolSpec(symbol, base, quote, tick, lot, price, notional)
    # A stable (process-independent) hash picks a price between 0.01 and 1000 quote units.
    digest = zlib.crc32(symbol.encode())
    price = 10 ** ((digest % 500) / 100 - 2)
    stable_quote = quote not in {"BTC", "ETH", "BNB"}
    if not stable_quote:
        price /= 10_000
    tick = min(8, max(0, 5 - len(str(int(price)))) + (4 if not stable_quote else 0))
    lot = min(8 - tick, max(0, len(str(int(price)))))
    notional = 300.0 if stable_quote else 0.005
    return SymbolSpec(symbol, base, quote, tick, lot, round(price, tick), notional)

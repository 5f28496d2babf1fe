"""Settings of one simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from streamforge.simulator.faults import Faults


@dataclass(frozen=True)
class SimConfig:
    """Everything a simulator is started with; the defaults serve a synthetic market."""

    host: str = "127.0.0.1"
    #: 0 picks a free port.
    port: int = 0
    seed: int = 1
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    #: Average aggregate trades per second and symbol.
    trade_rate: float = 0.5
    #: First day of the synthetic history (00:00 UTC); ids count from 1 there.
    genesis: date = date(2024, 1, 1)
    #: Price levels on each side of a synthetic book.
    book_levels: int = 1000
    #: REQUEST_WEIGHT per client and window.
    weight_limit: int = 6000
    weight_window_s: float = 60.0
    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0
    #: Serve this recording instead of the synthetic market.
    replay: Path | None = None
    #: Replay speed factor; None replays as fast as clients read.
    speed: float | None = 1.0
    #: Benchmark mode: every WebSocket client gets pre-rendered frames as fast as it reads.
    bench: bool = False
    faults: Faults = field(default_factory=Faults)

    def __post_init__(self) -> None:
        if self.trade_rate <= 0:
            raise ValueError("trade_rate must be positive")
        if self.speed is not None and self.speed <= 0:
            raise ValueError("speed must be positive (or None for as fast as possible)")
        if not self.symbols:
            raise ValueError("at least one symbol is needed")

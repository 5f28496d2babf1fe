"""The compiled extension against the Python paths it stands in for, in one process.

Run from the repository root as ``python -m benchmarks.native [--rounds 3]``: CPU microseconds a
row to turn a 10,000-row bulk aggTrades block into compressed record batches
(``decode_block``, as a loader-history worker does), and a frame to decode a live aggTrade frame
(``decode_live_frame``, as loader-ws does), each path in turn, ``--rounds`` times. Needs the
extension built (``scripts/setup.sh`` builds it where cargo is at hand).
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from types import ModuleType

from streamforge.bus.batches import BatchEncoder
from streamforge.exchanges.binance import bulk, normalize
from streamforge.exchanges.binance.trade_json import NATIVE
from streamforge.services.loader_history.blocks import CsvFile, decode_block
from streamforge.services.loader_history.chunk import ChunkEncoder
from streamforge.services.loader_history.plan import Kind

MS = 1_735_689_600_000
ROWS = 10_000
FRAMES = 200_000
FRAME = (
    b'{"stream":"btcusdt@aggTrade","data":{"e":"aggTrade","E":1735689600200,"s":"BTCUSDT",'
    b'"a":3312345678,"p":"94000.10000000","q":"0.50000000","f":4412345678,"l":4412345680,'
    b'"T":1735689600123,"m":true,"M":true}}'
)


def block() -> bytes:
    """A bulk aggTrades block as Binance writes it, with microsecond times."""
    return "".join(
        f"{i},94000.{i % 100:02d}000000,0.0012{i % 7}000,{2 * i},{2 * i + 1},"
        f"{(MS + i) * 1000},{i % 2 == 0},True\n"
        for i in range(1, ROWS + 1)
    ).encode()


def cpu_us_each(work: Callable[[], object], repeat: int, count: int) -> float:
    """CPU microseconds per item of ``repeat`` calls of ``work`` (``count`` items each)."""
    work()  # warm
    start = time.process_time()
    for _ in range(repeat):
        work()
    return (time.process_time() - start) / (repeat * count) * 1e6


def use(extension: ModuleType | None) -> None:
    """Make the loaders' hot paths use ``extension`` (None: the Python paths)."""
    for module in (bulk, normalize):
        vars(module)["NATIVE"] = extension


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    if NATIVE is None:
        raise SystemExit("the compiled extension is not installed (or STREAMFORGE_NATIVE=0)")
    data = block()
    file = CsvFile(Kind.TRADES, "BTCUSDT", "1m", MS, "bench.csv")
    encoder = ChunkEncoder(b"binance:BTCUSDT", BatchEncoder("zstd", 1 << 20))

    def bulk_block() -> object:
        return decode_block(file, data, 1, None, encoder)

    def live_frames() -> object:
        for _ in range(FRAMES):
            normalize.decode_live_frame(FRAME, MS)
        return None

    print(f"CPU µs each; {ROWS:,}-row bulk blocks and {FRAMES:,} live frames a round")
    for round_ in range(1, args.rounds + 1):
        figures = []
        for path, extension in (("extension", NATIVE), ("python", None)):
            use(extension)
            figures.append(
                f"{path}: bulk row {cpu_us_each(bulk_block, 5, ROWS):.2f}, "
                f"live frame {cpu_us_each(live_frames, 1, FRAMES):.2f}"
            )
        use(NATIVE)
        print(f"round {round_}: " + "; ".join(figures))


if __name__ == "__main__":
    main()

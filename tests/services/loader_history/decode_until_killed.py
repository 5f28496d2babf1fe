"""A process that decodes a bulk CSV block with a worker, says ``decoded``, then waits to be
SIGKILLed (for the test that its workers end with it).

Usage: ``python -m tests.services.loader_history.decode_until_killed``
"""

from __future__ import annotations

import asyncio
import io

from streamforge.bus.batches import BatchEncoder
from streamforge.services.loader_history.blocks import BlockDecoder, CsvFile
from streamforge.services.loader_history.chunk import ChunkEncoder
from streamforge.services.loader_history.plan import Kind

ROW = b"1,94000.10000000,0.00120000,2,3,1735689600123,False,True\n"


async def main() -> None:
    file = CsvFile(Kind.TRADES, "BTCUSDT", "1m", 0, "day.csv")
    async with BlockDecoder(
        1, ChunkEncoder(b"binance:BTCUSDT", BatchEncoder("zstd", 1 << 20))
    ) as decoder:
        async for _ in decoder.chunks(file, io.BytesIO(ROW), None):
            print("decoded", flush=True)
        await asyncio.sleep(3600)  # killed here, with its worker started


if __name__ == "__main__":
    asyncio.run(main())

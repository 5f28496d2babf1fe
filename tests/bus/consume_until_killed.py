"""A consumer process for the commit-after-effect test.

Handles one batch of ``topic`` in ``group``: appends the values to ``effects`` (the durable
effect), then either commits normally (``commit``) or waits to be SIGKILLed before the commit
(``hang``).

Usage: ``python -m tests.bus.consume_until_killed BOOTSTRAP TOPIC GROUP EFFECTS MODE``
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from streamforge.bus import Batch, BusConsumer, ConsumerOptions
from streamforge.config import load_settings
from streamforge.schemas import RawCodec


async def main(bootstrap: str, topic: str, group: str, effects: str, mode: str) -> None:
    settings = load_settings(env={"STREAMFORGE_KAFKA_BOOTSTRAP": bootstrap})
    options = ConsumerOptions(group_id=group)

    async def handle(batch: Batch[bytes]) -> None:
        with Path(effects).open("ab") as fh:
            fh.write(b"".join(v + b"\n" for v in batch.values))
        print("handled", len(batch), flush=True)
        if mode == "hang":
            await asyncio.sleep(3600)  # killed here: the effect exists, the commit does not

    async with BusConsumer(settings, [topic], RawCodec(), options=options) as consumer:
        while await consumer.poll(handle) == 0:
            pass
    print("committed", flush=True)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:6]))

"""Reading the event log up to where it ends now: how every reader rebuilds workflow state."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Callable, Iterator

from streamforge.bus import Batch, BusConsumer
from streamforge.schemas import Event


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a long log is folded, then freeze what
    survived: folding allocates many objects that live on, and collections triggered by
    those allocations would scan them again and again for no garbage."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
        gc.freeze()


async def replay_to_end(events: BusConsumer[Event], apply: Callable[[Event], object]) -> int:
    """Hand every event up to the log's current end to ``apply``, in order; return how many
    were read. ``events`` must be positioned at the beginning (``from_beginning``)."""
    ends = await events.end_offsets()
    read = 0

    async def each(batch: Batch[Event]) -> None:
        for event in batch.values:
            apply(event)

    with collector_paused():
        while [tp for tp, end in ends.items() if await events.position(tp) < end]:
            read += await events.poll(each)
    return read

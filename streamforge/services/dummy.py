"""dummy-service: a diagnostic service that exercises the shared lifecycle.

Without options it idles until stopped, answering ``ping``. ``--simulate-loading`` makes it
progress from 0 to 1 over ``duration`` seconds and finish; ``--fail-after N`` makes it raise
after N seconds, so the ``error`` path can be watched end to end.

``--hang-after N`` makes it block its event loop for good after N seconds, as a call stuck in C
code would: it stops publishing ``loading`` events and no longer handles SIGTERM or commands,
so only SIGKILL ends it. That is the failure the queue-manager's progress deadline must catch.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass
from typing import Any, ClassVar

from streamforge.services.base import Service, ServiceContext


class SimulatedFailure(RuntimeError):
    """The failure ``--fail-after`` asks for."""


@dataclass
class DummyService(Service):
    """Idles, or simulates loading, or fails or hangs on request."""

    name: ClassVar[str] = "dummy-service"

    simulate_loading: bool = False
    duration: float = 10.0
    fail_after: float | None = None
    hang_after: float | None = None
    tick: float = 0.1

    async def run(self, ctx: ServiceContext) -> dict[str, Any]:
        start = time.monotonic()
        records = 0
        while not ctx.stopping.is_set():
            elapsed = time.monotonic() - start
            if self.hang_after is not None and elapsed >= self.hang_after:
                _block_forever()
            if self.fail_after is not None and elapsed >= self.fail_after:
                raise SimulatedFailure(f"simulated failure after {self.fail_after:g} s")
            if self.simulate_loading:
                records += 1
                ctx.report(elapsed / self.duration, records_written=records)
                if elapsed >= self.duration:
                    ctx.report(1.0, records_written=records, message="loading simulated")
                    return {"records_written": records}
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ctx.stopping.wait(), self.tick)
        return {"records_written": records}


def _block_forever() -> None:
    """Never return nor yield to the event loop (signals interrupt the sleep, which resumes)."""
    while True:
        time.sleep(3600)

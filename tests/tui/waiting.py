"""Polling with a deadline instead of fixed sleeps: the machine may be busy."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

#: Seconds a condition may take before a test fails; generous for a loaded machine.
PATIENCE = 60.0


async def eventually(
    condition: Callable[[], bool],
    what: str,
    *,
    pause: Callable[[], Awaitable[object]] | None = None,
) -> None:
    """Wait until ``condition()`` holds, calling ``pause`` (default: a 50 ms sleep) between
    checks; fail naming ``what`` after :data:`PATIENCE` seconds."""
    try:
        async with asyncio.timeout(PATIENCE):
            while not condition():
                await (pause() if pause is not None else asyncio.sleep(0.05))
    except TimeoutError:
        raise AssertionError(f"timed out after {PATIENCE:g} s waiting for {what}") from None

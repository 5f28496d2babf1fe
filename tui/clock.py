"""The console's clock, injectable so that tests and snapshots see a fixed time."""

from __future__ import annotations

from collections.abc import Callable

#: Returns the current time in epoch milliseconds.
Clock = Callable[[], int]

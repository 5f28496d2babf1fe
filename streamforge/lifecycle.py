"""The explicit lifecycle of long-lived components: ``start()``, ``stop()``, ``async with``."""

from __future__ import annotations

from abc import ABC, abstractmethod
from types import TracebackType
from typing import Self


class AsyncLifecycle(ABC):
    """A component with ``start`` and ``stop``; ``async with`` starts it and always stops it."""

    @abstractmethod
    async def start(self) -> None:
        """Acquire connections and start background work."""

    @abstractmethod
    async def stop(self) -> None:
        """Release everything :meth:`start` acquired; safe to call more than once."""

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

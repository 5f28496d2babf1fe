"""One supervisor per data dir: it holds an exclusive lock on a file that holds its pid.

The lock goes with the process: a supervisor that dies, however it dies, frees it.
"""

from __future__ import annotations

import fcntl
import os
import time
from typing import IO, Self

from dev_env.supervisor.errors import StackRunningError
from dev_env.supervisor.paths import StackPaths

# A probe of `holder` holds the lock shared for an instant: retry before refusing.
_ATTEMPTS = 5
_RETRY_S = 0.1


class StackLock:
    """The supervisor lock of a data dir; :meth:`acquire` refuses clearly when it is held."""

    def __init__(self, paths: StackPaths) -> None:
        self.paths = paths
        self._handle: IO[str] | None = None

    def acquire(self) -> None:
        """Take the lock and write our pid; raise :class:`StackRunningError` if it is held."""
        path = self.paths.lock_file
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = path.open("a+")
        for attempt in range(_ATTEMPTS):
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if attempt == _ATTEMPTS - 1:
                    handle.close()
                    raise StackRunningError(self._running_message()) from None
                time.sleep(_RETRY_S)
        handle.truncate(0)
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        """Let go of the lock."""
        if self._handle is not None:
            self._handle.close()
            self._handle = None

    def holder(self) -> int | None:
        """The pid of the process holding the lock; None when it is free."""
        try:
            handle = self.paths.lock_file.open()
        except FileNotFoundError:
            return None
        with handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except BlockingIOError:
                return _pid(handle.read()) or -1
            fcntl.flock(handle, fcntl.LOCK_UN)
            return None

    def check_free(self) -> None:
        """Raise :class:`StackRunningError` if a supervisor holds the lock."""
        if self.holder() is not None:
            raise StackRunningError(self._running_message())

    def _running_message(self) -> str:
        pid = self.holder()
        by = f" (supervisor pid {pid})" if pid is not None and pid > 0 else ""
        return (
            f"a stack already runs on {self.paths.data_dir}{by}: "
            "see 'streamforge status', stop it with 'streamforge down'"
        )

    def __enter__(self) -> Self:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _pid(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() else None

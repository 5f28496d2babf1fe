"""Running a simulator beside synchronous code: in a background thread or as a subprocess."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Coroutine
from concurrent.futures import Future
from types import TracebackType
from typing import IO, Any, TypeVar

from streamforge.simulator.config import SimConfig
from streamforge.simulator.faults import Faults
from streamforge.simulator.server import Simulator

T = TypeVar("T")
_ENV_PREFIX = "STREAMFORGE_BINANCE_"


class SimulatorThread:
    """A simulator on its own event loop in a daemon thread: ``with SimulatorThread() as sim``."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self.simulator = Simulator(config)

    def __enter__(self) -> SimulatorThread:
        self._thread.start()
        self._call(self.simulator.start())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._call(self.simulator.stop())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()
        self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        future: Future[T] = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        return future.result()

    async def _set_faults(self, changes: dict[str, Any]) -> Faults:
        return self.simulator.set_faults(**changes)

    @property
    def rest_url(self) -> str:
        """See :attr:`Simulator.rest_url`."""
        return self.simulator.rest_url

    @property
    def ws_url(self) -> str:
        """See :attr:`Simulator.ws_url`."""
        return self.simulator.ws_url

    @property
    def data_url(self) -> str:
        """See :attr:`Simulator.data_url`."""
        return self.simulator.data_url

    def set_faults(self, **changes: Any) -> Faults:
        """See :meth:`Simulator.set_faults`."""
        return self._call(self._set_faults(changes))

    def disconnect_all(self, *, announce: bool = False) -> None:
        """See :meth:`Simulator.disconnect_all`."""
        self._call(self.simulator.disconnect_all(announce=announce))


class SimulatorProcess:
    """``python -m streamforge.cli.sim ARGS`` as a child process; ``env`` holds what it printed."""

    def __init__(self, *args: str, timeout_s: float = 60.0) -> None:
        self.args = [sys.executable, "-m", "streamforge.cli.sim", *args]
        self.env: dict[str, str] = {}
        self._timeout_s = timeout_s
        self._process: subprocess.Popen[str] | None = None

    def __enter__(self) -> SimulatorProcess:
        self._process = subprocess.Popen(
            self.args,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self._process.stdout is not None
        self.env = _read_settings(self._process.stdout, self._process)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def stop(self) -> int:
        """SIGTERM, wait, and return the exit code (killing it if it does not stop)."""
        process = self._process
        if process is None:
            return 0
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            code = process.wait(self._timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
        if process.stdout is not None:
            process.stdout.close()
        return code

    @property
    def rest_url(self) -> str:
        """``STREAMFORGE_BINANCE_REST_URL`` as printed."""
        return self.env[f"{_ENV_PREFIX}REST_URL"]

    @property
    def ws_url(self) -> str:
        """``STREAMFORGE_BINANCE_WS_URL`` as printed."""
        return self.env[f"{_ENV_PREFIX}WS_URL"]

    @property
    def data_url(self) -> str:
        """``STREAMFORGE_BINANCE_DATA_URL`` as printed."""
        return self.env[f"{_ENV_PREFIX}DATA_URL"]


def _read_settings(stdout: IO[str], process: subprocess.Popen[str]) -> dict[str, str]:
    settings: dict[str, str] = {}
    while len(settings) < 3:
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"simulator exited with code {process.wait()} before it was ready")
        name, _, value = line.strip().partition("=")
        if name.startswith(_ENV_PREFIX):
            settings[name] = value
    return settings

"""``streamforge up`` in the foreground: bring the stack up, hold it until Ctrl-C, SIGTERM (from
``streamforge down``) or the console's end, and always bring it down again."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, TextIO

from dev_env.supervisor.stack import Stack

_STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
_CONSOLE_STOP_S = 10.0


class StatusLines:
    """Where the stack's status lines go: this process's output, or a file while the console
    owns the terminal."""

    def __init__(self) -> None:
        self._file: TextIO | None = None

    def __call__(self, line: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {line}", file=self._file or sys.stdout, flush=True)

    def divert(self, path: Path) -> None:
        """Append the lines to ``path`` from now on."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = path.open("a")

    def restore(self) -> None:
        """Print the lines again."""
        if self._file is not None:
            self._file.close()
            self._file = None


async def run_stack(stack: Stack, lines: StatusLines, console: Sequence[str] | None = None) -> None:
    """Run the stack until a stop signal, or until the ``console`` command (when given) ends.

    Raises what made the start fail, after the stack has been brought down.
    """
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in _STOP_SIGNALS:
        loop.add_signal_handler(signum, stop.set)
    try:
        if await _unless_stopped(stack.start(), stop):
            if console is None:
                lines("stack running; Ctrl-C or 'streamforge down' stops it")
                await stop.wait()
            else:
                lines.divert(stack.paths.supervisor_log)
                await _run_console(console, stack.env, stop)
    finally:
        lines.restore()
        lines("stopping the stack")
        await stack.stop()
        lines("stopped")
        for signum in _STOP_SIGNALS:
            loop.remove_signal_handler(signum)


async def _unless_stopped(start: Coroutine[Any, Any, None], stop: asyncio.Event) -> bool:
    """Run ``start`` unless ``stop`` is set first (it is then cancelled); whether it ran."""
    starting = asyncio.ensure_future(start)
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if starting.done():
        starting.result()
        return True
    starting.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await starting
    return False


async def _run_console(argv: Sequence[str], env: Mapping[str, str], stop: asyncio.Event) -> None:
    """The console in this terminal until it quits or ``stop`` is set (it is then ended)."""
    process = await asyncio.create_subprocess_exec(*argv, env=dict(env))
    exited = asyncio.ensure_future(process.wait())
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({exited, stopping}, return_when=asyncio.FIRST_COMPLETED)
    stopping.cancel()
    if exited.done():
        return
    process.terminate()
    try:
        await asyncio.wait_for(exited, _CONSOLE_STOP_S)
    except TimeoutError:
        process.kill()
        await process.wait()

"""Running the ``streamforge`` command as a real child process from async tests."""

from __future__ import annotations

import asyncio
import sys


async def streamforge(env: dict[str, str], *args: str, wait_s: float = 300) -> tuple[int, str, str]:
    """Run ``python -m streamforge ARGS`` with ``env``; return exit code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        *(sys.executable, "-m", "streamforge", *args),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), wait_s)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()

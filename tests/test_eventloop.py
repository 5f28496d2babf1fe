"""Entry points run their coroutine on uvloop when it is installed, else on asyncio's loop."""

from __future__ import annotations

import asyncio
import sys

import pytest

from streamforge import eventloop


async def _loop_module() -> str:
    return type(asyncio.get_running_loop()).__module__


def test_run_uses_uvloop_when_installed() -> None:
    assert eventloop.run(_loop_module()).startswith("uvloop")


def test_run_falls_back_to_asyncio_without_uvloop(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # import uvloop now raises ImportError
    assert eventloop.run(_loop_module()).startswith("asyncio")


def test_run_returns_the_result_and_raises_the_error() -> None:
    async def fail() -> None:
        raise LookupError("no such queue")

    assert eventloop.run(asyncio.sleep(0, result=7)) == 7
    with pytest.raises(LookupError, match="no such queue"):
        eventloop.run(fail())

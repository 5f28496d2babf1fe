"""``streamforge run loader-ws`` as a Job: streams for ``--duration`` seconds, then finishes."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator

import pytest

from streamforge.bus.topics import TRADES
from streamforge.config import Settings
from streamforge.orchestration.client import ControlClient
from streamforge.schemas import Event, EventName, Trade
from streamforge.simulator import Simulator
from tests.services.loader_ws.helpers import reader

pytestmark = pytest.mark.kafka


async def run_command(env: dict[str, str], *args: str) -> tuple[int, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "streamforge",
        "run",
        "loader-ws",
        *args,
        env={**os.environ, **env},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await asyncio.wait_for(process.communicate(), 120)
    assert process.returncode is not None
    return process.returncode, stderr.decode()


async def test_a_job_streams_for_its_duration_and_finishes_with_its_counts(
    settings: Settings, sim: Simulator
) -> None:
    env = {
        "STREAMFORGE_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "STREAMFORGE_TOPIC_PREFIX": settings.topic_prefix,
        "STREAMFORGE_BINANCE_REST_URL": sim.rest_url,
        "STREAMFORGE_BINANCE_WS_URL": sim.ws_url,
    }
    code, _ = await run_command(
        env,
        "--queue-id",
        "q-job",
        "--symbols",
        "BTCUSDT,ETHUSDT",
        "--streams",
        "aggTrade,depth@100ms",
        "--book-interval",
        "0.5",
        "--duration",
        "4",
    )
    assert code == 0
    async with ControlClient(settings, from_beginning=True) as client:
        events = [e async for e in until_terminal(client, "q-job")]
    finished = events[-1]
    assert finished.event is EventName.FINISHED
    assert finished.payload["records_written"] > 0
    assert finished.payload["frames"] > 0
    assert finished.payload["snapshots"] >= 2
    async with reader(settings, TRADES, Trade) as trades:
        assert {t.symbol for t in await trades.read_all()} == {"BTCUSDT", "ETHUSDT"}


async def until_terminal(client: ControlClient, queue_id: str) -> AsyncIterator[Event]:
    """The events of ``queue_id`` up to its terminal one."""
    async for event in client.events(queue_id):
        yield event
        if event.is_terminal:
            return


async def test_bad_options_are_refused_naming_the_option(settings: Settings) -> None:
    env = {"STREAMFORGE_KAFKA_BOOTSTRAP": settings.kafka.bootstrap}
    code, stderr = await run_command(env, "--queue-id", "q", "--symbols", "BTCUSDT,btc-usdt")
    assert code == 2
    assert "Invalid value for '--symbols[1]': not a symbol" in stderr
    code, stderr = await run_command(
        env, "--queue-id", "q", "--streams", "aggTrade,depth,depth@100ms"
    )
    assert code == 2
    assert "at most one diff-depth kind" in stderr

"""Commands change what loader-ws streams at runtime; invalid ones are rejected naming the field."""

from __future__ import annotations

from typing import Any

import pytest

from streamforge.bus.topics import BBO, TRADES
from streamforge.config import Settings
from streamforge.orchestration.client import ControlClient
from streamforge.schemas import AnyMarketRecord, Command, Event, EventName
from streamforge.simulator import Simulator
from tests.services.loader_ws.helpers import eventually, loader, pointed_at, reader, running

pytestmark = pytest.mark.kafka

QUEUE = "q-commands"


async def ask(client: ControlClient, command: str, payload: dict[str, Any]) -> Event:
    """Send a command to loader-ws and return its answer (``accepted`` or ``rejected``)."""
    sent = Command.new(command, QUEUE, target="loader-ws", payload=payload)
    await client.send(sent)
    (answer,) = await client.replies(sent, {EventName.ACCEPTED, EventName.REJECTED}, wait_s=60)
    return answer


async def test_subscribe_and_unsubscribe_change_the_symbols_at_runtime(
    settings: Settings, sim: Simulator
) -> None:
    async with ControlClient(settings) as client:
        service = loader("BTCUSDT", kinds=("aggTrade", "bookTicker"))
        async with running(service, pointed_at(settings, sim), QUEUE) as pipe:
            await eventually(lambda: pipe.trades.last_id("BTCUSDT") is not None, what="BTC trades")
            added = await ask(client, "subscribe", {"symbols": ["ETHUSDT"]})
            assert added.event is EventName.ACCEPTED
            assert added.payload["added"] == ["ETHUSDT"]
            assert added.payload["symbols"] == ["BTCUSDT", "ETHUSDT"]
            await eventually(lambda: pipe.trades.last_id("ETHUSDT") is not None, what="ETH trades")

            removed = await ask(client, "unsubscribe", {"symbols": ["BTCUSDT"]})
            assert removed.event is EventName.ACCEPTED
            assert removed.payload["symbols"] == ["ETHUSDT"]
            eth_id = pipe.trades.last_id("ETHUSDT") or 0
            await eventually(lambda: (pipe.trades.last_id("ETHUSDT") or 0) > eth_id + 10)

    for topic in (TRADES, BBO):
        async with reader(settings, topic, AnyMarketRecord) as md:
            records = await md.read_all()
        btc = [r.receive_time for r in records if r.symbol == "BTCUSDT"]
        eth = [r.receive_time for r in records if r.symbol == "ETHUSDT"]
        assert btc and eth, topic
        assert max(btc) <= removed.timestamp, f"{topic}: BTCUSDT after unsubscribe"
        assert min(eth) >= added.timestamp - 5_000 and max(eth) > removed.timestamp


INVALID = [
    # (command, payload, field, part of the reason)
    ("subscribe", {"symbols": ["btc-usdt"]}, "payload.symbols[0]", "not a symbol"),
    ("subscribe", {"symbols": "BTCUSDT"}, "payload.symbols", "expected a non-empty list"),
    ("subscribe", {"symbol": ["BTCUSDT"]}, "payload.symbol", "unknown field"),
    ("unsubscribe", {"symbols": ["XRPUSDT"]}, "payload.symbols[0]", "not subscribed"),
    (
        "start",
        {"symbols": ["BTCUSDT"], "streams": ["aggTrade", "trades"]},
        "payload.streams[1]",
        "unknown stream kind 'trades'",
    ),
    (
        "start",
        {"symbols": ["BTCUSDT"], "streams": ["depth", "depth@100ms"]},
        "payload.streams",
        "at most one diff-depth kind",
    ),
    ("retry", {}, "command", "does not accept 'retry'"),
]


async def test_invalid_commands_are_rejected_with_the_field(
    settings: Settings, sim: Simulator
) -> None:
    service = loader("BTCUSDT", kinds=("aggTrade",))
    async with (
        ControlClient(settings) as client,
        running(service, pointed_at(settings, sim), QUEUE) as pipe,
    ):
        for command, payload, field, reason in INVALID:
            answer = await ask(client, command, payload)
            assert answer.event is EventName.REJECTED, (command, payload)
            assert answer.payload["field"] == field
            assert reason in answer.payload["reason"]
        assert pipe.subscription.symbols == ("BTCUSDT",)


async def test_start_replaces_the_symbols_and_kinds(settings: Settings, sim: Simulator) -> None:
    async with (
        ControlClient(settings) as client,
        running(loader(), pointed_at(settings, sim), QUEUE) as pipe,
    ):
        assert pipe.subscription.symbols == ()
        payload = {"symbols": ["ETHUSDT"], "streams": ["aggTrade"]}
        started = await ask(client, "start", payload)
        assert started.event is EventName.ACCEPTED
        assert started.payload == {**payload, "command_id": started.payload["command_id"]}
        await eventually(lambda: pipe.trades.last_id("ETHUSDT") is not None)
        assert pipe.streams.streams == {"ethusdt@aggTrade"}

"""What the loader-history tests share: running a job, reading its topic, the REST reference,
and a tampering proxy in front of the simulator's bulk files."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web

from streamforge.bus import Batch, BusConsumer, ConsumerOptions, workflow_data_topic
from streamforge.config import Settings, load_settings
from streamforge.orchestration.client import ControlClient
from streamforge.schemas import AnyMarketRecord, Candle, Codec, Event, Trade
from streamforge.services.host import ServiceHost
from streamforge.services.loader_history.service import LoaderHistory
from streamforge.simulator import SimulatorThread
from tests.simulator.reference import agg_trades
from tests.simulator.reference import klines as rest_klines

SYMBOL = "BTCUSDT"
INTERVAL = "15m"


def epoch_ms(text: str) -> int:
    """Epoch ms of a UTC ISO date-time."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


#: Half a day of REST, a day of millisecond files, a day of microsecond files, a quarter of REST.
START = epoch_ms("2024-12-30T12:00")
END = epoch_ms("2025-01-02T06:00")


def settings_for(
    bootstrap: str, sim: SimulatorThread, data_dir: Any, data_url: str = ""
) -> Settings:
    """Settings on the test broker (a prefix of their own) and the simulator."""
    return load_settings(
        env={
            "STREAMFORGE_KAFKA_BOOTSTRAP": bootstrap,
            "STREAMFORGE_TOPIC_PREFIX": f"t{uuid.uuid4().hex[:8]}.",
            "STREAMFORGE_DATA_DIR": str(data_dir),
            "STREAMFORGE_BINANCE_REST_URL": sim.rest_url,
            "STREAMFORGE_BINANCE_DATA_URL": data_url or sim.data_url,
        }
    )


def job(**changes: Any) -> LoaderHistory:
    """The tests' standard load, with ``changes``."""
    return LoaderHistory(
        **{"symbol": SYMBOL, "start": START, "end": END, "interval": INTERVAL, **changes}
    )


async def run_job(settings: Settings, queue_id: str, service: LoaderHistory) -> int:
    """Run the job to its end in this process; its exit code."""
    host = ServiceHost(service, settings, queue_id, loading_interval=0.1, handle_signals=False)
    return await host.run()


async def events_until_terminal(
    settings: Settings, queue_id: str, wait_s: float = 60
) -> list[Event]:
    """The job's events from the start of the log to its terminal event."""
    seen: list[Event] = []

    async def follow() -> None:
        async with ControlClient(settings, from_beginning=True) as client:
            async for event in client.events(queue_id):
                seen.append(event)
                if event.is_terminal:
                    return

    await asyncio.wait_for(follow(), wait_s)
    return seen


@dataclass
class TopicContent:
    """A workflow data topic read to its end."""

    records: list[Trade | Candle] = field(default_factory=list)
    end_offsets: dict[int, int] = field(default_factory=dict)

    @property
    def trades(self) -> list[Trade]:
        return [r for r in self.records if isinstance(r, Trade)]

    @property
    def candles(self) -> list[Candle]:
        return [r for r in self.records if isinstance(r, Candle)]


async def read_topic(settings: Settings, queue_id: str) -> TopicContent:
    """Every record of ``wf-<queue_id>-data``, in partition order, and its end offsets."""
    topic = settings.topic(workflow_data_topic(queue_id).name)
    content = TopicContent()

    async def collect(batch: Batch[Any]) -> None:
        for record, tp in zip(batch.values, batch.partitions, strict=True):
            assert record.key == f"binance:{SYMBOL}"
            assert tp.partition == batch.partitions[0].partition, "one symbol, one partition"
            content.records.append(record)

    options = ConsumerOptions(group_id=None, from_beginning=True, poll_timeout_ms=100)
    codec: Codec[Any] = Codec(AnyMarketRecord)
    async with BusConsumer(settings, [topic], codec, options=options) as reader:
        ends = await reader.end_offsets()
        for tp, end in ends.items():
            while await reader.position(tp) < end:
                await reader.poll(collect)
    content.end_offsets = {tp.partition: end for tp, end in ends.items()}
    return content


# -- the REST reference, read independently of the loader ------------------------------------


@dataclass(frozen=True)
class Reference:
    """What the simulator's REST API serves for the range, as comparable tuples."""

    klines: list[tuple[Any, ...]]
    trades: list[tuple[Any, ...]]
    trade_rows: list[dict[str, Any]]


def reference(sim: SimulatorThread, start: int = START, end: int = END) -> Reference:
    with httpx.Client(base_url=sim.rest_url, timeout=60) as client:
        klines = [tuple(row[:11]) for row in rest_klines(client, SYMBOL, INTERVAL, start, end)]
        trade_rows = agg_trades(client, SYMBOL, start, end)
    trades = [(t["a"], t["p"], t["q"], t["f"], t["l"], t["T"], t["m"]) for t in trade_rows]
    return Reference(klines, trades, trade_rows)


def kline_tuple(c: Candle) -> tuple[Any, ...]:
    return (
        c.open_time,
        c.open,
        c.high,
        c.low,
        c.close,
        c.volume,
        c.close_time,
        c.quote_volume,
        c.trades,
        c.taker_buy_volume,
        c.taker_buy_quote_volume,
    )


def trade_tuple(t: Trade) -> tuple[Any, ...]:
    return (
        t.trade_id,
        t.price,
        t.qty,
        t.first_trade_id,
        t.last_trade_id,
        t.trade_time,
        t.buyer_is_maker,
    )


def assert_loaded_exactly(content: TopicContent, expected: Reference) -> None:
    """The topic holds every kline and trade of the reference, once each, in order."""
    assert [kline_tuple(c) for c in content.candles] == expected.klines
    assert [trade_tuple(t) for t in content.trades] == expected.trades
    assert all(c.closed and c.interval == INTERVAL for c in content.candles)


# -- a proxy of the bulk files that can lose or damage them ----------------------------------


@dataclass
class TamperingProxy:
    """Serves the simulator's ``/data`` files, except that it answers 404 for the file names in
    ``missing``, 503 for a file in ``unavailable`` and flips a byte of a file in ``corrupt``
    (both: name -> how many more times; -1: always). ``served`` lists (file name, status) of
    every answer."""

    upstream: str
    missing: set[str] = field(default_factory=set)
    unavailable: dict[str, int] = field(default_factory=dict)
    corrupt: dict[str, int] = field(default_factory=dict)
    served: list[tuple[str, int]] = field(default_factory=list)
    url: str = ""
    _runner: web.AppRunner | None = None

    async def __aenter__(self) -> TamperingProxy:
        app = web.Application()
        app.router.add_get("/data/{path:.*}", self._forward)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/data"
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._runner is not None
        await self._runner.cleanup()

    async def _forward(self, request: web.Request) -> web.Response:
        path = request.match_info["path"]
        name = path.rsplit("/", 1)[-1]
        if name in self.missing or name.removesuffix(".CHECKSUM") in self.missing:
            self.served.append((name, 404))
            return web.Response(status=404)
        if self.unavailable.get(name, 0) != 0:
            self.unavailable[name] -= 1
            self.served.append((name, 503))
            return web.Response(status=503)
        async with httpx.AsyncClient(timeout=60) as client:
            upstream = await client.get(f"{self.upstream}/{path}")
        body = upstream.content
        if upstream.status_code == 200 and self.corrupt.get(name, 0) != 0:
            self.corrupt[name] -= 1
            body = body[:-1] + bytes([body[-1] ^ 0xFF])
        self.served.append((name, upstream.status_code))
        return web.Response(status=upstream.status_code, body=body)

    def files(self, status: int = 200) -> set[str]:
        """Names of the zips that were asked for (or their checksums) and answered ``status``."""
        return {name.removesuffix(".CHECKSUM") for name, code in self.served if code == status}


# -- processes (Linux /proc) -----------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name, or None if there is no such pid."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return text.rsplit(")", 1)[1].split()


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _stat(int(entry.name))) and fields[1] == str(pid):
            found.append(int(entry.name))
    return found


def ended(pid: int) -> bool:
    """Whether ``pid`` has exited (gone, or a zombie nobody has reaped)."""
    fields = _stat(pid)
    return fields is None or fields[0] == "Z"


async def still_running(pids: list[int], wait_s: float = 30) -> list[int]:
    """Those of ``pids`` that have not exited within ``wait_s`` seconds."""
    for _ in range(int(wait_s * 10)):
        if all(ended(pid) for pid in pids):
            break
        await asyncio.sleep(0.1)
    return [pid for pid in pids if not ended(pid)]

"""Binance WebSocket market streams: sharded combined-stream connections that heal themselves.

:class:`BinanceStreams` spreads streams over connections of at most 1024 streams each
(``/stream?streams=a/b/c``), adds and removes streams at runtime with SUBSCRIBE/UNSUBSCRIBE
messages paced under Binance's 5 incoming messages a second, and keeps every connection alive:

* the websockets library answers the server's pings with pongs echoing their payload;
* a dropped connection is reopened with exponential backoff and full jitter, and connection
  attempts from all shards stay under Binance's 300 per 5 minutes;
* ``serverShutdown`` and the approach of the 24-hour limit trigger a make-before-break
  reconnect: the new connection is open before the old one closes, and the proactive
  reconnects of many shards are staggered over a window instead of happening together.

Frames reach ``on_frame(raw, receive_time_ms)`` as the exchange sent them; a reconnect
listener learns when a shard's streams may have missed frames (so the loader can backfill
trades and resync books). Make-before-break may deliver a few frames twice; consumers
deduplicate by exchange ids.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Protocol

import msgspec
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from streamforge.lifecycle import AsyncLifecycle

log = logging.getLogger(__name__)

FrameHandler = Callable[[bytes, int], None]
#: Frames handled before the read loop lets other tasks run. While frames keep arriving,
#: ``recv()`` never suspends, and without a yield the tasks that publish what was read starve.
FRAMES_PER_TURN = 256


class StreamListener(Protocol):
    """Told when a shard's streams start flowing and when they may have lost frames."""

    def on_connected(self, streams: frozenset[str], reconnect: bool) -> None:
        """The streams flow; ``reconnect`` is true when frames may have been missed before."""

    def on_disconnected(self, streams: frozenset[str], reason: str) -> None:
        """The streams stopped flowing until the next :meth:`on_connected`."""


@dataclass
class StreamOptions:
    """Limits and timings; the defaults follow Binance's published rules."""

    max_streams_per_connection: int = 1024
    control_messages_per_second: float = 4.0
    params_per_message: int = 200
    max_connection_age_s: float = 23 * 3600.0
    reconnect_stagger_s: float = 1800.0
    backoff_initial_s: float = 0.25
    backoff_max_s: float = 30.0
    stable_after_s: float = 30.0
    connect_attempts_per_window: int = 300
    connect_window_s: float = 300.0
    open_timeout_s: float = 10.0
    ping_interval_s: float | None = 30.0
    max_frame_bytes: int = 8 * 1024 * 1024


class ConnectLimiter:
    """At most ``limit`` connection attempts per ``window_s`` seconds, shared by all shards."""

    def __init__(self, limit: int, window_s: float) -> None:
        self.limit = limit
        self.window_s = window_s
        self._attempts: deque[float] = deque()
        self._lock = asyncio.Lock()

    async def acquire(self) -> None:
        """Wait until one more attempt fits in the window, then record it."""
        async with self._lock:
            while True:
                now = time.monotonic()
                while self._attempts and now - self._attempts[0] >= self.window_s:
                    self._attempts.popleft()
                if len(self._attempts) < self.limit:
                    self._attempts.append(now)
                    return
                await asyncio.sleep(self.window_s - (now - self._attempts[0]))


class _ControlPacer:
    """Spaces outgoing control messages to stay under the incoming-message limit."""

    def __init__(self, per_second: float) -> None:
        self._interval = 1.0 / per_second
        self._next = 0.0

    async def wait(self) -> None:
        now = time.monotonic()
        if self._next > now:
            await asyncio.sleep(self._next - now)
        self._next = max(now, self._next) + self._interval


class _ControlReply(msgspec.Struct):
    id: int
    result: object = None
    error: dict[str, object] | None = None


_reply_decoder = msgspec.json.Decoder(_ControlReply)
_SHUTDOWN = b'"serverShutdown"'


@dataclass
class ConnectionStats:
    """Counters of one shard."""

    frames: int = 0
    reconnects: int = 0
    last_frame_ms: int = 0


@dataclass
class StreamConnection:
    """One shard: a combined-stream connection for up to ``max_streams_per_connection``."""

    base_url: str
    streams: set[str]
    on_frame: FrameHandler
    listener: StreamListener | None
    options: StreamOptions
    limiter: ConnectLimiter
    age_limit_s: float
    stats: ConnectionStats = field(default_factory=ConnectionStats)

    def __post_init__(self) -> None:
        self._ws: ClientConnection | None = None
        self._pacer = _ControlPacer(self.options.control_messages_per_second)
        self._next_id = 1
        self._pending: dict[int, asyncio.Future[_ControlReply]] = {}
        self._refresh = asyncio.Event()
        self._ever_connected = False

    @property
    def room(self) -> int:
        """How many more streams this shard can take."""
        return self.options.max_streams_per_connection - len(self.streams)

    @property
    def connected(self) -> bool:
        """Whether frames are flowing."""
        return self._ws is not None

    def url(self) -> str:
        """The combined-stream URL for the current stream set."""
        return f"{self.base_url}/stream?streams={'/'.join(sorted(self.streams))}"

    def request_reconnect(self) -> None:
        """Replace the connection now (make-before-break), as for ``serverShutdown``."""
        self._refresh.set()

    async def subscribe(self, streams: Iterable[str]) -> None:
        """Add streams: sent as SUBSCRIBE when connected, else part of the next connect."""
        new = sorted(set(streams) - self.streams)
        if len(new) > self.room:
            raise ValueError(f"shard has room for {self.room} streams, asked for {len(new)}")
        self.streams.update(new)
        await self._control("SUBSCRIBE", new)

    async def unsubscribe(self, streams: Iterable[str]) -> None:
        """Remove streams (UNSUBSCRIBE when connected)."""
        gone = sorted(set(streams) & self.streams)
        self.streams.difference_update(gone)
        await self._control("UNSUBSCRIBE", gone)

    async def _control(self, method: str, params: list[str]) -> None:
        ws = self._ws
        if ws is None or not params:
            return
        step = self.options.params_per_message
        for start in range(0, len(params), step):
            await self._pacer.wait()
            request_id, self._next_id = self._next_id, self._next_id + 1
            reply: asyncio.Future[_ControlReply] = asyncio.get_running_loop().create_future()
            self._pending[request_id] = reply
            body = {"method": method, "params": params[start : start + step], "id": request_id}
            try:
                await ws.send(msgspec.json.encode(body).decode())
                answer = await asyncio.wait_for(reply, 10)
            except (ConnectionClosed, TimeoutError):
                return  # the reconnect subscribes to the whole stream set anyway
            finally:
                self._pending.pop(request_id, None)
            if answer.error is not None:
                raise RuntimeError(f"{method} refused by the exchange: {answer.error}")

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the shard connected until ``stop`` is set."""
        attempt = 0
        ws: ClientConnection | None = None
        while not stop.is_set():
            if not self.streams:
                await _wait_any(stop, self._refresh, within=1.0)
                self._refresh.clear()
                continue
            if ws is None:
                ws = await self._open(stop, attempt)
                if ws is None:
                    attempt += 1
                    continue
            connected_at = time.monotonic()
            self._adopt(ws)
            reason = await self._read(ws, stop, connected_at)
            if reason == "refresh" and not stop.is_set():
                replacement = await self._open(stop, 0)
                await ws.close()
                self._drop(ws, reason)
                ws = replacement  # None: the next loop backs off and retries
                attempt = 0
                continue
            await ws.close()
            self._drop(ws, reason)
            ws = None
            attempt = (
                0
                if time.monotonic() - connected_at >= self.options.stable_after_s
                else (attempt + 1)
            )

    async def _open(self, stop: asyncio.Event, attempt: int) -> ClientConnection | None:
        if attempt:
            ceiling = min(self.options.backoff_max_s, self.options.backoff_initial_s * 2**attempt)
            if await _wait_any(stop, within=random.uniform(0, ceiling)):
                return None
        await self.limiter.acquire()
        try:
            return await connect(
                self.url(),
                open_timeout=self.options.open_timeout_s,
                ping_interval=self.options.ping_interval_s,
                max_size=self.options.max_frame_bytes,
                max_queue=4096,
                compression=None,
                proxy=None,
            )
        except (OSError, InvalidHandshake, InvalidURI, TimeoutError) as exc:
            log.warning("cannot connect to %s: %s", self.base_url, exc)
            return None

    def _adopt(self, ws: ClientConnection) -> None:
        self._ws = ws
        reconnect = self._ever_connected
        if reconnect:
            self.stats.reconnects += 1
        self._ever_connected = True
        if self.listener is not None:
            self.listener.on_connected(frozenset(self.streams), reconnect)

    def _drop(self, ws: ClientConnection, reason: str) -> None:
        if self._ws is ws:
            self._ws = None
        for reply in self._pending.values():
            reply.cancel()
        self._pending.clear()
        if self.listener is not None and reason != "refresh":
            self.listener.on_disconnected(frozenset(self.streams), reason)

    async def _read(self, ws: ClientConnection, stop: asyncio.Event, since: float) -> str:
        """Read frames until the connection ends or must be replaced; return why."""
        pump = asyncio.create_task(self._pump(ws))
        stop_wait = asyncio.create_task(stop.wait())
        refresh_wait = asyncio.create_task(self._refresh.wait())
        remaining = since + self.age_limit_s - time.monotonic()
        try:
            done, _ = await asyncio.wait(
                {pump, stop_wait, refresh_wait},
                timeout=max(remaining, 0.0),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for task in (stop_wait, refresh_wait):
                task.cancel()
        if pump in done:
            return pump.result()
        pump.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await pump
        if stop_wait in done:
            return "stopped"
        self._refresh.clear()
        return "refresh"  # serverShutdown, a request, or the connection's age limit

    async def _pump(self, ws: ClientConnection) -> str:
        on_frame = self.on_frame
        stats = self.stats
        try:
            while True:
                frame = await ws.recv(decode=False)
                now_ms = time.time_ns() // 1_000_000
                if frame.startswith((b'{"result"', b'{"id"')):
                    self._on_reply(frame)
                    continue
                if _SHUTDOWN in frame:
                    log.info("server announced shutdown: reconnecting")
                    self._refresh.set()
                stats.frames += 1
                stats.last_frame_ms = now_ms
                on_frame(frame, now_ms)
                if not stats.frames % FRAMES_PER_TURN:
                    await asyncio.sleep(0)
        except ConnectionClosed as exc:
            return f"closed: {exc}"

    def _on_reply(self, frame: bytes) -> None:
        try:
            reply = _reply_decoder.decode(frame)
        except msgspec.DecodeError:
            log.warning("unexpected control frame: %r", frame[:200])
            return
        future = self._pending.get(reply.id)
        if future is not None and not future.done():
            future.set_result(reply)


async def _wait_any(*events: asyncio.Event, within: float) -> bool:
    """Wait until one of ``events`` is set or ``within`` seconds pass; return whether one was."""
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        done, _ = await asyncio.wait(waiters, timeout=within, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()
    return bool(done)


class BinanceStreams(AsyncLifecycle):
    """All stream subscriptions of one process, sharded over connections.

    Use ``async with``; :meth:`add` and :meth:`remove` change the streams at runtime.
    """

    def __init__(
        self,
        ws_url: str,
        on_frame: FrameHandler,
        listener: StreamListener | None = None,
        options: StreamOptions | None = None,
    ) -> None:
        self.ws_url = ws_url.rstrip("/")
        self.on_frame = on_frame
        self.listener = listener
        self.options = options or StreamOptions()
        self.connections: list[StreamConnection] = []
        self._limiter = ConnectLimiter(
            self.options.connect_attempts_per_window, self.options.connect_window_s
        )
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def streams(self) -> frozenset[str]:
        """Every subscribed stream."""
        return frozenset(s for c in self.connections for s in c.streams)

    async def start(self) -> None:
        """Nothing to do: connections open as streams are added."""

    async def add(self, streams: Iterable[str]) -> None:
        """Subscribe to ``streams`` (stream names such as ``btcusdt@aggTrade``)."""
        wanted = sorted(set(streams) - self.streams)
        for conn in self.connections:
            if not wanted:
                return
            take, wanted = wanted[: max(conn.room, 0)], wanted[max(conn.room, 0) :]
            if take:
                await conn.subscribe(take)
        while wanted:
            take, wanted = (
                wanted[: self.options.max_streams_per_connection],
                wanted[self.options.max_streams_per_connection :],
            )
            self._new_connection(set(take))

    async def remove(self, streams: Iterable[str]) -> None:
        """Unsubscribe from ``streams``."""
        gone = set(streams)
        for conn in self.connections:
            if conn.streams & gone:
                await conn.unsubscribe(conn.streams & gone)

    def _new_connection(self, streams: set[str]) -> None:
        index = len(self.connections)
        stagger = random.uniform(0, self.options.reconnect_stagger_s)
        conn = StreamConnection(
            self.ws_url,
            streams,
            self.on_frame,
            self.listener,
            self.options,
            self._limiter,
            age_limit_s=max(self.options.max_connection_age_s - stagger, 1.0),
        )
        self.connections.append(conn)
        self._tasks.append(asyncio.create_task(conn.run(self._stop), name=f"binance-ws-{index}"))

    async def stop(self) -> None:
        """Close every connection."""
        self._stop.set()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks.clear()

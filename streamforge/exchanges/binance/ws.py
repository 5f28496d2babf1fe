"""Binance WebSocket market streams: sharded combined-stream connections that heal themselves.

:class:`BinanceStreams` spreads streams over connections of at most 1024 streams each
(``/stream?streams=a/b/c``), adds and removes streams at runtime with SUBSCRIBE/UNSUBSCRIBE
messages paced under Binance's 5 incoming messages a second, and keeps every connection alive:

* the server's pings are answered with pongs echoing their payload, and an idle connection is
  pinged and dropped when its pong does not come back;
* a dropped connection is reopened with exponential backoff and full jitter, and connection
  attempts from all shards stay under Binance's 300 per 5 minutes;
* ``serverShutdown`` and the approach of the 24-hour limit trigger a make-before-break
  reconnect: the new connection is open before the old one closes, and the proactive
  reconnects of many shards are staggered over a window instead of happening together.

The client is picows: frames are parsed in C straight from the socket's read buffer, and the
frames of one read reach ``on_frames(frames, receive_time_ms)`` together, as the exchange sent
them, in order, with the time of that read. A reconnect listener learns when a shard's streams
may have missed frames (so the loader can backfill trades and resync books). Make-before-break
may deliver a few frames twice; consumers deduplicate by exchange ids.
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
from picows import (
    WSAutoPingStrategy,
    WSCloseCode,
    WSError,
    WSFrame,
    WSInvalidURL,
    WSListener,
    WSMsgType,
    WSTransport,
    ws_connect,
)

from streamforge.lifecycle import AsyncLifecycle

log = logging.getLogger(__name__)

#: Receives the data frames of one socket read, in order, and the read's epoch milliseconds.
#: The list is the handler's to keep.
FrameHandler = Callable[[list[bytes], int], None]
#: Frames handed to the handler in one event-loop turn (see :class:`_Session`).
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
    #: Ping a connection that received nothing for this long (None: never).
    ping_interval_s: float | None = 30.0
    #: Drop a pinged connection whose pong takes longer than this.
    ping_timeout_s: float = 20.0
    close_timeout_s: float = 5.0
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
_DATA = b'{"stream":'
_TEXT, _BINARY, _CONTINUATION = WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION
_PING, _PONG, _CLOSE = WSMsgType.PING, WSMsgType.PONG, WSMsgType.CLOSE


@dataclass
class ConnectionStats:
    """Counters of one shard."""

    frames: int = 0
    reconnects: int = 0
    last_frame_ms: int = 0


class _Session(WSListener):
    """One open WebSocket of a shard: batches its data frames, answers pings, routes replies.

    picows calls :meth:`on_ws_frame` for each frame parsed from one socket read; the last one
    carries ``last_in_buffer``, and the read's frames are handed over then. A pong consumed by
    picows' own keep-alive never reaches :meth:`on_ws_frame`, so :meth:`is_user_specific_pong`
    hands over the frames before it.

    The handler gets at most :data:`FRAMES_PER_TURN` frames an event-loop turn: a read that
    brought more pauses reading and the rest follows in the next turns, so that the tasks that
    consume what was read (publishing to Kafka) keep pace instead of starving while frames
    arrive faster than they are handled. A busy loader thus leaves frames in the socket, where
    TCP flow control holds them, rather than reading them only to drop them.
    """

    def __init__(self, shard: StreamConnection) -> None:
        super().__init__()
        self._shard = shard
        self._batch: list[bytes] = []
        self._received_ms = 0
        self._backlog: deque[tuple[list[bytes], int]] = deque()
        self._fragments: bytearray | None = None
        self._transport: WSTransport | None = None
        self.close_reason = "closed"

    def on_ws_connected(self, transport: WSTransport) -> None:
        self._transport = transport

    def on_ws_frame(self, transport: WSTransport, frame: WSFrame) -> None:
        kind = frame.msg_type
        if kind is _TEXT and frame.fin:
            message = frame.get_payload_as_bytes()
            batch = self._batch
            # The hot path: a data frame (a shutdown notice also names a stream).
            if message.startswith(_DATA) and _SHUTDOWN not in message:
                if not batch:
                    self._received_ms = time.time_ns() // 1_000_000
                batch.append(message)
            else:
                self._on_message(message)
        elif kind is _TEXT or kind is _BINARY:
            if frame.fin:
                self._on_message(frame.get_payload_as_bytes())
            else:
                self._fragments = bytearray(frame.get_payload_as_memoryview())
        elif kind is _CONTINUATION:
            self._on_fragment(transport, frame)
        elif kind is _PING:
            transport.send_pong(frame.get_payload_as_bytes())
        elif kind is _CLOSE:
            code = frame.get_close_code()
            self.close_reason = f"closed by the server: {code} {frame.get_close_reason()}"
            transport.send_close(code)
            transport.disconnect()
        if frame.last_in_buffer:
            self._flush()

    def is_user_specific_pong(self, frame: WSFrame) -> bool:
        if frame.msg_type is not _PONG:
            return False
        self._flush()
        return True

    def on_ws_disconnected(self, transport: WSTransport) -> None:
        # Everything read is handed over before the connection counts as closed.
        self._flush()
        while self._backlog:
            self._hand_over(*self._backlog.popleft())

    def _on_fragment(self, transport: WSTransport, frame: WSFrame) -> None:
        fragments = self._fragments
        if fragments is None:
            return  # a continuation without a first fragment: nothing to continue
        fragments += frame.get_payload_as_memoryview()
        if len(fragments) > self._shard.options.max_frame_bytes:
            self.close_reason = f"message over {self._shard.options.max_frame_bytes} bytes"
            self._fragments = None
            transport.send_close(WSCloseCode.MESSAGE_TOO_BIG)
            transport.disconnect()
        elif frame.fin:
            self._fragments = None
            self._on_message(bytes(fragments))

    def _on_message(self, message: bytes) -> None:
        if not self._batch:
            self._received_ms = time.time_ns() // 1_000_000
        if message.startswith((b'{"result"', b'{"id"')):
            self._shard.on_reply(message)
            return
        if _SHUTDOWN in message:
            log.info("server announced shutdown: reconnecting")
            self._shard.request_reconnect()
        self._batch.append(message)

    def _flush(self) -> None:
        batch = self._batch
        if not batch:
            return
        self._batch = []
        received_ms = self._received_ms
        backlog = self._backlog
        if not backlog and len(batch) <= FRAMES_PER_TURN:
            self._hand_over(batch, received_ms)
            return
        if not backlog:
            self._pause()
            asyncio.get_running_loop().call_soon(self._deliver_backlog)
        for start in range(0, len(batch), FRAMES_PER_TURN):
            backlog.append((batch[start : start + FRAMES_PER_TURN], received_ms))

    def _deliver_backlog(self) -> None:
        """Hand over the next :data:`FRAMES_PER_TURN` frames of the backlog."""
        backlog = self._backlog
        if not backlog:
            return  # the connection closed and handed everything over
        self._hand_over(*backlog.popleft())
        if backlog:
            asyncio.get_running_loop().call_soon(self._deliver_backlog)
        else:
            self._resume()

    def _hand_over(self, frames: list[bytes], received_ms: int) -> None:
        """Deliver frames; a failing handler is a bug that drops (and so renews) the connection."""
        try:
            self._shard.deliver(frames, received_ms)
        except Exception as exc:
            log.exception("the frame handler failed: closing the connection")
            self.close_reason = f"the frame handler failed: {exc!r}"
            transport = self._transport
            if transport is not None and not transport.is_disconnected:
                transport.send_close(WSCloseCode.INTERNAL_ERROR)
                transport.disconnect()

    def _pause(self) -> None:
        if self._transport is not None:
            self._transport.underlying_transport.pause_reading()

    def _resume(self) -> None:
        transport = self._transport
        if transport is not None and not transport.is_disconnected:
            transport.underlying_transport.resume_reading()


@dataclass
class StreamConnection:
    """One shard: a combined-stream connection for up to ``max_streams_per_connection``."""

    base_url: str
    streams: set[str]
    on_frames: FrameHandler
    listener: StreamListener | None
    options: StreamOptions
    limiter: ConnectLimiter
    age_limit_s: float
    stats: ConnectionStats = field(default_factory=ConnectionStats)

    def __post_init__(self) -> None:
        self._ws: WSTransport | None = None
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

    def deliver(self, frames: list[bytes], receive_ms: int) -> None:
        """Count the frames of one read and hand them to ``on_frames``."""
        stats = self.stats
        stats.frames += len(frames)
        stats.last_frame_ms = receive_ms
        self.on_frames(frames, receive_ms)

    def on_reply(self, frame: bytes) -> None:
        """Complete the SUBSCRIBE/UNSUBSCRIBE request that ``frame`` answers."""
        try:
            reply = _reply_decoder.decode(frame)
        except msgspec.DecodeError:
            log.warning("unexpected control frame: %r", frame[:200])
            return
        future = self._pending.get(reply.id)
        if future is not None and not future.done():
            future.set_result(reply)

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
        step = self.options.params_per_message
        for start in range(0, len(params), step):
            ws = self._ws
            if ws is None:
                return  # the next connect subscribes to the whole stream set
            await self._pacer.wait()
            if self._ws is not ws:
                return  # replaced while pacing: the new connection subscribed to the whole set
            request_id, self._next_id = self._next_id, self._next_id + 1
            reply: asyncio.Future[_ControlReply] = asyncio.get_running_loop().create_future()
            self._pending[request_id] = reply
            body = {"method": method, "params": params[start : start + step], "id": request_id}
            try:
                ws.send(_TEXT, msgspec.json.encode(body))
                answer = await asyncio.wait_for(reply, 10)
            except (ConnectionError, TimeoutError):
                return  # the reconnect subscribes to the whole stream set anyway
            finally:
                self._pending.pop(request_id, None)
            if answer.error is not None:
                raise RuntimeError(f"{method} refused by the exchange: {answer.error}")

    async def run(self, stop: asyncio.Event) -> None:
        """Keep the shard connected until ``stop`` is set."""
        attempt = 0
        ws: tuple[WSTransport, _Session] | None = None
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
            transport, session = ws
            self._adopt(transport)
            reason = await self._read(transport, session, stop, connected_at)
            if reason == "refresh" and not stop.is_set():
                replacement = await self._open(stop, 0)
                await self._close(transport)
                self._drop(transport, reason)
                ws = replacement  # None: the next loop backs off and retries
                attempt = 0
                continue
            await self._close(transport)
            self._drop(transport, reason)
            ws = None
            attempt = (
                0
                if time.monotonic() - connected_at >= self.options.stable_after_s
                else (attempt + 1)
            )

    async def _open(self, stop: asyncio.Event, attempt: int) -> tuple[WSTransport, _Session] | None:
        options = self.options
        if attempt:
            ceiling = min(options.backoff_max_s, options.backoff_initial_s * 2**attempt)
            if await _wait_any(stop, within=random.uniform(0, ceiling)):
                return None
        await self.limiter.acquire()
        try:
            transport, session = await asyncio.wait_for(
                ws_connect(
                    lambda: _Session(self),
                    self.url(),
                    websocket_handshake_timeout=options.open_timeout_s,
                    logger_name=__name__,
                    enable_auto_ping=options.ping_interval_s is not None,
                    auto_ping_idle_timeout=options.ping_interval_s or 0.0,
                    auto_ping_reply_timeout=options.ping_timeout_s,
                    auto_ping_strategy=WSAutoPingStrategy.PING_WHEN_IDLE,
                    enable_auto_pong=False,  # _Session answers pings itself
                    max_frame_size=options.max_frame_bytes,
                    read_buffer_init_size=256 * 1024,
                ),
                options.open_timeout_s,
            )
        except (OSError, WSError, WSInvalidURL, TimeoutError) as exc:
            log.warning("cannot connect to %s: %s", self.base_url, exc)
            return None
        assert isinstance(session, _Session)
        return transport, session

    async def _close(self, transport: WSTransport) -> None:
        """Close the connection, giving the server ``close_timeout_s`` to see it go."""
        transport.send_close(WSCloseCode.OK)
        transport.disconnect()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(transport.wait_disconnected(), self.options.close_timeout_s)

    def _adopt(self, ws: WSTransport) -> None:
        self._ws = ws
        reconnect = self._ever_connected
        if reconnect:
            self.stats.reconnects += 1
        self._ever_connected = True
        if self.listener is not None:
            self.listener.on_connected(frozenset(self.streams), reconnect)

    def _drop(self, ws: WSTransport, reason: str) -> None:
        if self._ws is ws:
            self._ws = None
        for reply in self._pending.values():
            if not reply.done():
                reply.set_exception(ConnectionError(f"connection ended: {reason}"))
        self._pending.clear()
        if self.listener is not None and reason != "refresh":
            self.listener.on_disconnected(frozenset(self.streams), reason)

    async def _read(
        self, transport: WSTransport, session: _Session, stop: asyncio.Event, since: float
    ) -> str:
        """Wait until the connection ends or must be replaced; return why.

        Frames flow meanwhile: picows hands them to the session from the socket's callbacks.
        """
        closed = asyncio.ensure_future(transport.wait_disconnected())
        stop_wait = asyncio.ensure_future(stop.wait())
        refresh_wait = asyncio.ensure_future(self._refresh.wait())
        remaining = since + self.age_limit_s - time.monotonic()
        try:
            done, _ = await asyncio.wait(
                {closed, stop_wait, refresh_wait},
                timeout=max(remaining, 0.0),
                return_when=asyncio.FIRST_COMPLETED,
            )
        finally:
            for task in (closed, stop_wait, refresh_wait):
                task.cancel()
        if closed in done:
            error = closed.exception()
            return session.close_reason if error is None else f"failed: {error!r}"
        if stop_wait in done:
            return "stopped"
        self._refresh.clear()
        return "refresh"  # serverShutdown, a request, or the connection's age limit


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
        on_frames: FrameHandler,
        listener: StreamListener | None = None,
        options: StreamOptions | None = None,
    ) -> None:
        self.ws_url = ws_url.rstrip("/")
        self.on_frames = on_frames
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
            self.on_frames,
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

"""One client WebSocket with Binance's connection rules.

Frames leave through one ordered outbox drained by a sender task, so a slow client never blocks the
market: when its outbox overflows it is disconnected, as Binance does. The server pings on a timer
and disconnects a client that stops answering; a client that sends more than five messages a second
(pings and pongs included) is disconnected; the SUBSCRIBE protocol is answered in order with data.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from collections import deque
from dataclasses import dataclass
from enum import Enum
from typing import Any

import orjson
from aiohttp import WSMsgType, web

from streamforge.simulator.faults import FaultState
from streamforge.simulator.hub import Hub, wrap
from streamforge.simulator.stats import SimStats
from streamforge.simulator.streams import MAX_STREAMS, stream_kind

#: Frames queued for one client before it counts as too slow and is disconnected.
OUTBOX_LIMIT = 20_000
#: Incoming messages (text, ping, pong) a connection may send in one second.
MAX_MESSAGES_PER_SECOND = 5
_REQUEST_ID = re.compile(r"^[A-Za-z0-9]{1,36}$")
_METHODS = "`SUBSCRIBE`, `UNSUBSCRIBE`, `LIST_SUBSCRIPTIONS`, `SET_PROPERTY`, `GET_PROPERTY`"


class _Kind(Enum):
    DATA = 1  # market data: subject to the malformed-frame fault
    CONTROL = 2  # answers and notices: always well-formed
    PING = 3
    CLOSE = 4  # close once everything queued before it is out


@dataclass(frozen=True, slots=True)
class ConnectionRules:
    """Keep-alive settings."""

    ping_interval_s: float = 20.0
    pong_timeout_s: float = 60.0


class RequestError(Exception):
    """A control request Binance would refuse; carries its error code."""

    def __init__(self, code: int, msg: str) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg


class Connection:
    """A subscribed client; the hub pushes frames, :meth:`serve` runs it until it closes."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        *,
        combined: bool,
        hub: Hub,
        faults: FaultState,
        stats: SimStats,
        rules: ConnectionRules,
    ) -> None:
        self.ws = ws
        self.combined = combined
        self.streams: dict[str, None] = {}
        self._hub = hub
        self._faults = faults
        self._stats = stats
        self._rules = rules
        self._loop = asyncio.get_running_loop()
        self._outbox: asyncio.Queue[tuple[_Kind, bytes, float]] = asyncio.Queue(OUTBOX_LIMIT)
        self._received: deque[float] = deque()
        self._last_pong = self._loop.time()
        self._ping_timer: asyncio.TimerHandle | None = None
        self._sender: asyncio.Task[None] | None = None
        self._closing: asyncio.Task[None] | None = None
        self._close_after_queued = (1000, "")

    # -- outgoing ----------------------------------------------------------------------------

    def push(self, frame: bytes) -> None:
        """Queue a market-data frame; a client this far behind is disconnected."""
        try:
            self._outbox.put_nowait((_Kind.DATA, frame, self._loop.time()))
        except asyncio.QueueFull:
            self.close_soon(1008, "Too slow: outbox full")

    async def push_wait(self, frame: bytes) -> None:
        """Queue a market-data frame, waiting while the outbox is full (replay pacing)."""
        await self._outbox.put((_Kind.DATA, frame, self._loop.time()))

    def _answer(self, answer: dict[str, Any]) -> None:
        try:
            self._outbox.put_nowait((_Kind.CONTROL, orjson.dumps(answer), self._loop.time()))
        except asyncio.QueueFull:
            self.close_soon(1008, "Too slow: outbox full")

    async def _send_loop(self) -> None:
        with contextlib.suppress(ConnectionError):
            await self._send_frames()

    async def _send_frames(self) -> None:
        ws, faults, stats = self.ws, self._faults, self._stats
        while True:
            kind, frame, queued_at = await self._outbox.get()
            delay = queued_at + faults.latency_s - self._loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            if kind is _Kind.PING:
                await ws.ping(frame)
                continue
            if kind is _Kind.CLOSE:
                code, message = self._close_after_queued
                await ws.close(code=code, message=message.encode())
                return
            if kind is _Kind.DATA and faults.take_malformed():
                frame = frame[: len(frame) // 2]
            await ws.send_frame(frame, WSMsgType.TEXT)
            stats.frames_sent += 1
            stats.bytes_sent += len(frame)

    # -- lifecycle ---------------------------------------------------------------------------

    async def serve(self, streams: list[str]) -> None:
        """Subscribe to the URL's streams and run until the connection closes."""
        self._subscribe(streams)
        self._hub.attach(self)
        self._stats.connections_total += 1
        self._stats.connections_open += 1
        self._sender = asyncio.create_task(self._send_loop())
        self._schedule_ping()
        try:
            await self._read_loop()
        except ConnectionError:
            pass
        finally:
            self._hub.detach(self)
            self._stats.connections_open -= 1
            if self._ping_timer is not None:
                self._ping_timer.cancel()
            self._sender.cancel()
            if not self.ws.closed:
                await self.ws.close()

    def close_soon(self, code: int, message: str, *, announce: bool = False) -> None:
        """Start :meth:`close` without waiting for it."""
        if self._closing is None:
            self._closing = asyncio.create_task(self.close(code, message, announce=announce))

    async def close(self, code: int, message: str, *, announce: bool = False) -> None:
        """Close now, dropping queued frames; ``announce`` first sends ``serverShutdown``."""
        if self._sender is not None:
            self._sender.cancel()
        try:
            if announce:
                event = orjson.dumps({"e": "serverShutdown", "E": time.time_ns() // 1_000_000})
                if self.combined:
                    event = wrap("!serverShutdown", event)
                await self.ws.send_frame(event, WSMsgType.TEXT)
            await self.ws.close(code=code, message=message.encode())
        except ConnectionError:
            pass

    def _schedule_ping(self) -> None:
        self._ping_timer = self._loop.call_later(self._rules.ping_interval_s, self._on_ping_timer)

    def _on_ping_timer(self) -> None:
        now = self._loop.time()
        if now - self._last_pong > self._rules.pong_timeout_s:
            self.close_soon(1008, "Pong timeout")
            return
        payload = str(time.time_ns() // 1_000_000).encode()
        try:
            self._outbox.put_nowait((_Kind.PING, payload, now))
        except asyncio.QueueFull:
            self.close_soon(1008, "Too slow: outbox full")
            return
        self._schedule_ping()

    # -- incoming ----------------------------------------------------------------------------

    async def _read_loop(self) -> None:
        async for message in self.ws:
            if not self._within_rate():
                await self._close_when_sent(1008, "Too many messages")
                return
            if message.type is WSMsgType.TEXT:
                self._handle_request(message.data)
            elif message.type is WSMsgType.PING:
                await self.ws.pong(message.data)
            elif message.type is WSMsgType.PONG:
                self._last_pong = self._loop.time()
            elif message.type is WSMsgType.BINARY:
                self._answer(_error(3, "Invalid JSON: binary frames are not accepted", None))
            else:
                return

    async def _close_when_sent(self, code: int, message: str) -> None:
        """Answer what was asked so far, then close."""
        self._close_after_queued = (code, message)
        try:
            self._outbox.put_nowait((_Kind.CLOSE, b"", self._loop.time()))
        except asyncio.QueueFull:
            await self.close(code, message)
            return
        if self._sender is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._sender), timeout=5.0)
            except TimeoutError:
                await self.close(code, message)

    def _within_rate(self) -> bool:
        now = self._loop.time()
        received = self._received
        while received and now - received[0] >= 1.0:
            received.popleft()
        received.append(now)
        return len(received) <= MAX_MESSAGES_PER_SECOND

    def _handle_request(self, text: str) -> None:
        request_id: object = None
        try:
            request = _parse(text)
            request_id = request.get("id")
            result = self._dispatch(request)
        except RequestError as error:
            self._answer(_error(error.code, error.msg, request_id))
            return
        self._answer({"result": result, "id": request_id})

    def _dispatch(self, request: dict[str, Any]) -> object:
        request_id = request.get("id")
        if not (
            request_id is None
            or (type(request_id) is int and -(2**63) <= request_id < 2**63)
            or (isinstance(request_id, str) and _REQUEST_ID.match(request_id))
        ):
            raise RequestError(2, "Invalid request: request ID must be an unsigned integer")
        method = request.get("method")
        params = request.get("params", [])
        if method is None:
            raise RequestError(2, "Invalid request: missing field `method`")
        if not isinstance(params, list):
            raise RequestError(2, "Invalid request: params must be a list")
        if method == "SUBSCRIBE":
            self._subscribe(_stream_params(params))
            return None
        if method == "UNSUBSCRIBE":
            names = _stream_params(params)
            for name in names:
                self.streams.pop(name, None)
            self._hub.unsubscribe(self, names)
            return None
        if method == "LIST_SUBSCRIPTIONS":
            return list(self.streams)
        if method in ("SET_PROPERTY", "GET_PROPERTY"):
            return self._property(method, params)
        raise RequestError(
            2, f"Invalid request: unknown variant `{method}`, expected one of {_METHODS}"
        )

    def _subscribe(self, names: list[str]) -> None:
        fresh = [name for name in names if name not in self.streams]
        if len(self.streams) + len(fresh) > MAX_STREAMS:
            raise RequestError(2, f"Invalid request: at most {MAX_STREAMS} streams a connection")
        self.streams.update(dict.fromkeys(fresh))
        self._hub.subscribe(self, fresh)

    def _property(self, method: str, params: list[Any]) -> object:
        if not params or not isinstance(params[0], str):
            raise RequestError(2, "Invalid request: property name must be a string")
        if params[0] != "combined":
            raise RequestError(0, "Unknown property")
        if method == "GET_PROPERTY":
            return self.combined
        if len(params) != 2 or not isinstance(params[1], bool):
            raise RequestError(1, "Invalid value type: expected Boolean")
        self.combined = params[1]
        return None


def _parse(text: str) -> dict[str, Any]:
    try:
        request = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        raise RequestError(3, f"Invalid JSON: {exc}") from None
    if not isinstance(request, dict):
        raise RequestError(3, "Invalid JSON: expected an object")
    return request


def _stream_params(params: list[Any]) -> list[str]:
    for name in params:
        if not isinstance(name, str) or stream_kind(name) is None:
            raise RequestError(2, f"Invalid request: invalid stream name {name!r}")
    return params


def _error(code: int, msg: str, request_id: object) -> dict[str, Any]:
    return {"error": {"code": code, "msg": msg}, "id": request_id}

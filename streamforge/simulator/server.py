"""The simulator: REST, WebSocket streams, bulk files and admin endpoints on one port.

``async with Simulator(SimConfig(...)) as sim`` serves until the block ends; ``sim.rest_url``,
``sim.ws_url`` and ``sim.data_url`` point clients at it. Faults change at runtime through
:meth:`Simulator.set_faults` or ``POST /_sim/faults`` (JSON with :class:`Faults` fields plus the
actions ``disconnect_now`` / ``shutdown_now``); ``GET /_sim/stats`` reports what was served.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from aiohttp import web

from streamforge.lifecycle import AsyncLifecycle
from streamforge.simulator.bench import Bench
from streamforge.simulator.config import SimConfig
from streamforge.simulator.connection import Connection, ConnectionRules
from streamforge.simulator.datafiles import BulkFiles
from streamforge.simulator.errors import BinanceError, json_response
from streamforge.simulator.faults import FaultActions, Faults, FaultState
from streamforge.simulator.hub import Hub
from streamforge.simulator.live import LiveFeed, now_ms
from streamforge.simulator.market import Market
from streamforge.simulator.ratelimit import WeightLimiter
from streamforge.simulator.replay import Recording
from streamforge.simulator.rest import RestApi, request_weight
from streamforge.simulator.stats import SimStats
from streamforge.simulator.streams import MAX_STREAMS, stream_kind, stream_names

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_GOING_AWAY = 1001
_MAX_URL = 65_536


class Simulator(AsyncLifecycle):
    """A Binance-compatible exchange on ``127.0.0.1`` (or ``config.host``)."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.config = config or SimConfig()
        self.stats = SimStats()
        self._faults = FaultState(msgspec.structs.replace(self.config.faults), self.config.seed)
        self._limiter = WeightLimiter(self.config.weight_limit, self.config.weight_window_s)
        self._hub = Hub()
        self._rules = ConnectionRules(self.config.ping_interval_s, self.config.pong_timeout_s)
        self._recording = Recording(self.config.replay) if self.config.replay else None
        self._market = Market(
            self.config.symbols,
            seed=self.config.seed,
            trade_rate=self.config.trade_rate,
            genesis=self.config.genesis,
        )
        self._live: LiveFeed | None = None
        self._bench: Bench | None = None
        self._runner: web.AppRunner | None = None
        self._timers: list[asyncio.Task[None]] = []
        self.port = 0

    # -- addresses -----------------------------------------------------------------------------

    @property
    def _base(self) -> str:
        host = "127.0.0.1" if self.config.host in ("0.0.0.0", "") else self.config.host
        return f"{host}:{self.port}"

    @property
    def rest_url(self) -> str:
        """Base URL of the REST API (``STREAMFORGE_BINANCE_REST_URL``)."""
        return f"http://{self._base}"

    @property
    def ws_url(self) -> str:
        """Base URL of the streams (``STREAMFORGE_BINANCE_WS_URL``)."""
        return f"ws://{self._base}"

    @property
    def data_url(self) -> str:
        """Base URL of the bulk files (``STREAMFORGE_BINANCE_DATA_URL``)."""
        return f"http://{self._base}/data"

    def environment(self) -> dict[str, str]:
        """The settings that point StreamForge at this simulator."""
        return {
            "STREAMFORGE_BINANCE_REST_URL": self.rest_url,
            "STREAMFORGE_BINANCE_WS_URL": self.ws_url,
            "STREAMFORGE_BINANCE_DATA_URL": self.data_url,
        }

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Bind the port and start serving."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.config.host, self.config.port))
        except OSError:
            sock.close()
            raise
        self.port = sock.getsockname()[1]
        self._runner = web.AppRunner(
            await self._application(),
            access_log=None,
            handle_signals=False,
            shutdown_timeout=1.0,
            max_line_size=_MAX_URL,  # /stream?streams= with 1024 names
        )
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self._restart_timers()

    async def _application(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        app.router.add_get("/ws", self._websocket)
        app.router.add_get("/ws/{streams:.*}", self._websocket)
        app.router.add_get("/stream", self._websocket)
        app.router.add_get("/_sim/faults", self._get_faults)
        app.router.add_post("/_sim/faults", self._post_faults)
        app.router.add_delete("/_sim/faults", self._delete_faults)
        app.router.add_get("/_sim/stats", self._get_stats)
        if self._recording is not None:
            app.router.add_get("/api/{path:.*}", self._recording.rest)
        else:
            await asyncio.to_thread(self._market.prepare, now_ms())
            self._live = LiveFeed(
                self._market.histories,
                self._hub,
                self._faults,
                seed=self.config.seed,
                book_levels=self.config.book_levels,
            )
            RestApi(self._market, self._live, self.config.weight_limit).add_routes(app)
            BulkFiles(self._market).add_routes(app)
        if self.config.bench:
            first = next(iter(self._market.histories.values()))
            self._bench = await asyncio.to_thread(Bench, first, self.stats)
        return app

    async def stop(self) -> None:
        """Close every connection and stop serving."""
        for timer in self._timers:
            timer.cancel()
        await self.disconnect_all(code=_GOING_AWAY)
        if self._live is not None:
            await self._live.stop()
        if self._runner is not None:
            await self._runner.cleanup()

    # -- faults --------------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The current fault settings (a copy)."""
        return msgspec.structs.replace(self._faults.faults)

    def set_faults(self, **changes: Any) -> Faults:
        """Change fault settings (fields of :class:`Faults`); returns the new settings."""
        faults = self._faults.update(changes)
        self._restart_timers()
        return msgspec.structs.replace(faults)

    def reset_faults(self) -> Faults:
        """Back to no faults at all."""
        self._faults.faults = Faults()
        self._restart_timers()
        return Faults()

    async def disconnect_all(self, *, announce: bool = False, code: int = 1000) -> None:
        """Close every WebSocket connection; ``announce`` sends ``serverShutdown`` first."""
        message = "Server shutdown" if announce else "Disconnected"
        connections = [c for c in self._hub.connections if isinstance(c, Connection)]
        await asyncio.gather(*(c.close(code, message, announce=announce) for c in connections))

    def _restart_timers(self) -> None:
        for timer in self._timers:
            timer.cancel()
        faults = self._faults.faults
        self._timers = [
            asyncio.create_task(self._every(period, announce))
            for period, announce in (
                (faults.disconnect_every_s, False),
                (faults.shutdown_every_s, True),
            )
            if period is not None
        ]

    async def _every(self, period: float, announce: bool) -> None:
        while True:
            await asyncio.sleep(period)
            await self.disconnect_all(announce=announce)

    # -- HTTP ----------------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        path = request.path
        if not path.startswith(("/api/", "/data/")):
            return await handler(request)
        self.stats.rest_requests += 1
        if self._faults.latency_s:
            await asyncio.sleep(self._faults.latency_s)
        if self._faults.take_rest_error():
            return BinanceError(
                -1001, "Internal error; unable to process your request. Please try again.", 503
            ).response()
        if not path.startswith("/api/"):
            return await handler(request)
        charge = self._limiter.charge(
            request.remote or "", request_weight(path, request.query), time.time()
        )
        if charge.retry_after is not None:
            response: web.StreamResponse = BinanceError(
                -1003,
                f"Too much request weight used; current limit is {self._limiter.limit} request "
                "weight per 1 MINUTE. Please use WebSocket Streams for live updates to avoid "
                "polling the API.",
                429,
            ).response()
            response.headers["Retry-After"] = str(charge.retry_after)
        else:
            try:
                response = await handler(request)
            except BinanceError as error:
                response = error.response()
        response.headers["X-MBX-USED-WEIGHT"] = str(charge.used)
        response.headers["X-MBX-USED-WEIGHT-1M"] = str(charge.used)
        return response

    async def _websocket(self, request: web.Request) -> web.StreamResponse:
        names = stream_names(request.path, request.query.get("streams"))
        invalid = [name for name in names if stream_kind(name) is None]
        if invalid:
            raise web.HTTPBadRequest(text=f"Invalid stream name(s): {', '.join(invalid)}")
        if len(set(names)) > MAX_STREAMS:
            raise web.HTTPBadRequest(text=f"At most {MAX_STREAMS} streams a connection")
        combined = request.path.startswith("/stream")
        ws = web.WebSocketResponse(autoping=False)
        await ws.prepare(request)
        if self._bench is not None:
            await self._bench.serve(request, ws, combined)
            return ws
        connection = Connection(
            ws,
            combined=combined,
            hub=self._hub,
            faults=self._faults,
            stats=self.stats,
            rules=self._rules,
        )
        if self._recording is None:
            await connection.serve(names)
            return ws
        playback = asyncio.create_task(
            self._recording.play(connection, self.config.speed, self._faults)
        )
        try:
            await connection.serve(names)
        finally:
            playback.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await playback
        return ws

    async def _get_faults(self, request: web.Request) -> web.Response:
        return json_response(msgspec.to_builtins(self._faults.faults))

    async def _post_faults(self, request: web.Request) -> web.Response:
        try:
            body = msgspec.json.decode(await request.read())
            if not isinstance(body, dict):
                raise msgspec.ValidationError("expected a JSON object")
            actions = msgspec.convert(
                {k: v for k, v in body.items() if k in _ACTIONS}, FaultActions
            )
            faults = self.set_faults(**{k: v for k, v in body.items() if k not in _ACTIONS})
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return json_response({"error": str(exc)}, status=400)
        if actions.disconnect_now or actions.shutdown_now:
            await self.disconnect_all(announce=actions.shutdown_now)
        return json_response(msgspec.to_builtins(faults))

    async def _delete_faults(self, request: web.Request) -> web.Response:
        return json_response(msgspec.to_builtins(self.reset_faults()))

    async def _get_stats(self, request: web.Request) -> web.Response:
        return json_response(msgspec.to_builtins(self.stats))


_ACTIONS = frozenset(field.name for field in msgspec.structs.fields(FaultActions))

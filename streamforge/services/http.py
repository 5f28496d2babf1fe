"""The health and Prometheus metrics endpoint every service exposes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest


class ObservabilityServer:
    """Serves ``GET /health`` (JSON, 200 when healthy, else 503) and ``GET /metrics``."""

    def __init__(
        self,
        health: Callable[[], tuple[bool, dict[str, Any]]],
        host: str = "0.0.0.0",
        port: int = 0,
    ) -> None:
        self._health = health
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self.port = 0

    async def start(self) -> None:
        """Listen; ``port`` 0 picks a free port, reported in :attr:`port`."""
        app = web.Application()
        app.router.add_get("/health", self._on_health)
        app.router.add_get("/metrics", self._on_metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _on_health(self, request: web.Request) -> web.Response:
        healthy, body = self._health()
        return web.json_response(body, status=200 if healthy else 503)

    async def _on_metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(REGISTRY), headers={"Content-Type": CONTENT_TYPE_LATEST}
        )

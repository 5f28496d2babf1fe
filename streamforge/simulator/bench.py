"""Benchmark mode: realistic aggTrade frames, pre-rendered, sent as fast as a client reads.

The frames (real synthetic trades of the first symbol, ids continuous within the block) are
rendered once as raw WebSocket frame bytes, so serving is one transport write per block of frames;
the transport's flow control pauses the writer while the client lags. Ids repeat when a block
starts over.
"""

from __future__ import annotations

import asyncio
import struct

import orjson
from aiohttp import web

from streamforge.simulator.history import SymbolHistory
from streamforge.simulator.hub import wrap
from streamforge.simulator.live import now_ms
from streamforge.simulator.payloads import agg_trade_event
from streamforge.simulator.stats import SimStats

BLOCK_FRAMES = 4096
_TEXT_FIN = 0x81


def text_frame(payload: bytes) -> bytes:
    """An unmasked, final WebSocket text frame (what a server sends)."""
    size = len(payload)
    if size < 126:
        return bytes((_TEXT_FIN, size)) + payload
    if size < 65536:
        return struct.pack("!BBH", _TEXT_FIN, 126, size) + payload
    return struct.pack("!BBQ", _TEXT_FIN, 127, size) + payload


class Bench:
    """Pre-rendered frame blocks, raw and combined."""

    def __init__(self, history: SymbolHistory, stats: SimStats) -> None:
        spec = history.spec
        stream = f"{spec.symbol.lower()}@aggTrade"
        trades = history.trades_before(now_ms(), BLOCK_FRAMES)
        payloads = [orjson.dumps(agg_trade_event(spec, trade, trade.time)) for trade in trades]
        self._raw = b"".join(text_frame(payload) for payload in payloads)
        self._combined = b"".join(text_frame(wrap(stream, payload)) for payload in payloads)
        self._count = len(payloads)
        self._stats = stats

    async def serve(self, request: web.Request, ws: web.WebSocketResponse, combined: bool) -> None:
        """Write blocks until the client goes away."""
        transport, writer = request.transport, request.writer
        block = self._combined if combined else self._raw
        reader = asyncio.create_task(_discard_incoming(ws))
        try:
            while not reader.done() and transport is not None and not transport.is_closing():
                transport.write(block)
                self._stats.frames_sent += self._count
                self._stats.bytes_sent += len(block)
                await writer.drain()
                await asyncio.sleep(0)  # let other clients and requests in when never paused
        except ConnectionError:
            pass  # the client went away mid-write: the end of a benchmark, not an error
        finally:
            reader.cancel()


async def _discard_incoming(ws: web.WebSocketResponse) -> None:
    async for _ in ws:
        pass

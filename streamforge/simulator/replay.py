"""Serving a recording in the replay format (see ``streamforge.exchanges.replay``).

WebSocket frames are played to each client from the start of the recording, at the recorded pace
(scaled by a speed factor) or as fast as the client takes them, keeping only the streams it
listens to: combined frames to ``/stream`` clients byte for byte, the inner payload to ``/ws``
clients. REST answers come from the recording's ``http`` lines, matched by path and query (in any
parameter order); repeated requests get successive recorded answers, the last one repeating.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from pathlib import Path
from typing import NamedTuple
from urllib.parse import parse_qsl, urlsplit

import orjson
from aiohttp import web

from streamforge.exchanges.replay import read_replay
from streamforge.simulator.connection import Connection
from streamforge.simulator.errors import BinanceError, json_response
from streamforge.simulator.faults import FaultState
from streamforge.simulator.hub import wrap
from streamforge.simulator.live import now_ms
from streamforge.simulator.streams import stream_kind

RequestKey = tuple[str, tuple[tuple[str, str], ...]]


class ReplayFrame(NamedTuple):
    """A recorded frame; ``offset`` in seconds from the recording's first frame."""

    offset: float
    stream: str
    raw: bytes
    combined: bytes

    @property
    def diff_depth(self) -> bool:
        """Whether the frame is a diff-depth event (which the gap fault may drop)."""
        kind = stream_kind(self.stream)
        return kind is not None and kind.partition("@")[0] == "depth"


def request_key(path: str, query: str) -> RequestKey:
    """How a request is matched against recorded ones: path and sorted query parameters."""
    return path, tuple(sorted(parse_qsl(query, keep_blank_values=True)))


def _frame(url: str, data: str, offset: float) -> ReplayFrame | None:
    parts = urlsplit(url)
    if parts.path.startswith("/ws/"):
        stream = parts.path.removeprefix("/ws/")
        return ReplayFrame(offset, stream, data.encode(), wrap(stream, data.encode()))
    message = orjson.loads(data)
    if not isinstance(message, dict) or "stream" not in message:
        return None  # an answer to a control request, not market data
    stream = message["stream"]
    prefix = f'{{"stream":"{stream}","data":'
    if data.startswith(prefix) and data.endswith("}"):
        raw = data[len(prefix) : -1].encode()
    else:
        raw = orjson.dumps(message["data"])
    return ReplayFrame(offset, stream, raw, data.encode())


class Recording:
    """A replay file loaded for serving."""

    def __init__(self, path: Path) -> None:
        self.frames: list[ReplayFrame] = []
        self._answers: dict[RequestKey, list[bytes]] = defaultdict(list)
        self._served: dict[RequestKey, int] = defaultdict(int)
        first: float | None = None
        for entry in read_replay(path):
            if entry.t == "http":
                parts = urlsplit(entry.url)
                self._answers[request_key(parts.path, parts.query)].append(entry.data.encode())
                continue
            first = entry.ts if first is None else first
            frame = _frame(entry.url, entry.data, entry.ts - first)
            if frame is not None:
                self.frames.append(frame)

    def answer(self, key: RequestKey) -> bytes | None:
        """The next recorded answer to a request, if it was recorded."""
        answers = self._answers.get(key)
        if not answers:
            return None
        served = self._served[key]
        self._served[key] = served + 1
        return answers[min(served, len(answers) - 1)]

    async def rest(self, request: web.Request) -> web.Response:
        """Any ``/api/...`` request: the recorded answer (ping and time work regardless)."""
        body = self.answer(request_key(request.path, request.query_string))
        if body is not None:
            return web.Response(body=body, content_type="application/json")
        if request.path == "/api/v3/ping":
            return json_response({})
        if request.path == "/api/v3/time":
            return json_response({"serverTime": now_ms()})
        raise BinanceError(-1, "No such request in the recording.", status=404)

    async def play(self, connection: Connection, speed: float | None, faults: FaultState) -> None:
        """Send the recording to one client; ``speed`` None plays it as fast as it is taken."""
        loop = asyncio.get_running_loop()
        start = loop.time()
        for frame in self.frames:
            if speed is not None:
                delay = start + frame.offset / speed - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            if frame.stream not in connection.streams:
                continue
            if frame.diff_depth and faults.take_depth_gap():
                continue
            await connection.push_wait(frame.combined if connection.combined else frame.raw)

"""Counters that ``GET /_sim/stats`` reports."""

from __future__ import annotations

import msgspec


class SimStats(msgspec.Struct, kw_only=True):
    """What the simulator has served since it started."""

    frames_sent: int = 0
    bytes_sent: int = 0
    connections_total: int = 0
    connections_open: int = 0
    rest_requests: int = 0

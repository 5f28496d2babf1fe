"""Rebuild Binance order books from a replay file (a recording or the simulator's output).

WebSocket frames (combined-stream frames, or plain ones recorded under a ``.../ws/<stream>``
URL) go through the normalizer; depth diffs and the recorded REST depth snapshots
(``.../api/v3/depth?symbol=X...``) drive one :class:`BookSync` per symbol. Frames of other
supported streams are decoded too, so a malformed one is reported; other requests are skipped.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from streamforge.exchanges.binance.book_sync import BookSync, DiffResult, SnapshotResult
from streamforge.exchanges.binance.normalize import (
    FrameError,
    UnsupportedStreamError,
    decode_depth_snapshot,
    decode_frame,
    decode_stream_payload,
)
from streamforge.exchanges.replay import ReplayEntry, read_replay
from streamforge.schemas import BBO, DepthDiff


def depth_snapshot_symbol(url: str) -> str | None:
    """The symbol of a REST depth snapshot request URL, or None for any other URL."""
    parts = urlsplit(url)
    if not parts.path.endswith("/api/v3/depth"):
        return None
    symbols = parse_qs(parts.query).get("symbol")
    return symbols[0].upper() if symbols else None


def replay_book(path: str | Path, symbol: str | None = None) -> Iterator[BBO]:
    """Yield the best bid and offer after every applied diff batch, in file order.

    A batch is one live diff, or the buffered diffs replayed when a snapshot syncs a book; a
    book with an empty side has no best bid and offer to yield.
    Only ``symbol`` is rebuilt when given. Raises :class:`FrameError` naming the entry for a
    frame or snapshot that does not decode, and ``ReplayFormatError`` for a bad line.
    """
    syncs: dict[str, BookSync] = {}
    for number, entry in enumerate(read_replay(path), start=1):
        try:
            bbo = _replay_entry(entry, symbol, syncs)
        except FrameError as exc:
            raise FrameError(f"{path}: entry {number} ({entry.url}): {exc}") from None
        if bbo is not None:
            yield bbo


def _replay_entry(entry: ReplayEntry, symbol: str | None, syncs: dict[str, BookSync]) -> BBO | None:
    """Feed one entry to its symbol's book; the new best bid and offer if a batch applied."""
    receive_time = round(entry.ts * 1000)
    if entry.t == "http":
        snapshot_symbol = depth_snapshot_symbol(entry.url)
        if snapshot_symbol is None or symbol not in (None, snapshot_symbol):
            return None
        snapshot = decode_depth_snapshot(entry.data, snapshot_symbol, receive_time)
        sync = _sync_for(snapshot_symbol, syncs)
        synced = sync.apply_snapshot(snapshot) is SnapshotResult.SYNCED
        if synced and sync.update_id != snapshot.last_update_id:  # buffered diffs replayed
            return sync.bbo(receive_time, receive_time)
        return None
    _, plain, stream = entry.url.partition("/ws/")
    try:
        if plain:
            record = decode_stream_payload(stream.partition("?")[0], entry.data, receive_time)
        else:
            record = decode_frame(entry.data, receive_time)
    except UnsupportedStreamError:
        return None
    if not isinstance(record, DepthDiff) or symbol not in (None, record.symbol):
        return None
    sync = _sync_for(record.symbol, syncs)
    if sync.apply_diff(record) is DiffResult.APPLIED:
        return sync.bbo(record.event_time, record.receive_time)
    return None


def _sync_for(symbol: str, syncs: dict[str, BookSync]) -> BookSync:
    sync = syncs.get(symbol)
    if sync is None:
        sync = syncs[symbol] = BookSync(symbol)
    return sync

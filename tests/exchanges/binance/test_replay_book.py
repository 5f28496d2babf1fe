"""Rebuilding books from a replay file, checked against the exchange's own bookTicker."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from streamforge.exchanges.binance.normalize import FrameError, decode_frame
from streamforge.exchanges.binance.replay_book import depth_snapshot_symbol, replay_book
from streamforge.exchanges.replay import read_replay
from streamforge.schemas import BBO

RECORDING = Path(__file__).parents[2] / "data/binance/binance-spot-2021-08-14.jsonl"
SYMBOLS = {"FTMUSDT", "SXPBTC", "BADGERBTC", "XMRBTC"}


def recorded_book_tickers() -> dict[str, list[BBO]]:
    tickers: dict[str, list[BBO]] = {}
    for entry in read_replay(RECORDING):
        if entry.t == "ws" and "@bookTicker" in entry.data[:40]:
            bbo = decode_frame(entry.data, 0)
            assert isinstance(bbo, BBO)
            tickers.setdefault(bbo.symbol, []).append(bbo)
    return tickers


def recorded_snapshot_ids() -> dict[str, int]:
    ids = {}
    for entry in read_replay(RECORDING):
        symbol = depth_snapshot_symbol(entry.url)
        if symbol is not None:
            ids[symbol] = json.loads(entry.data)["lastUpdateId"]
    return ids


def test_after_every_diff_batch_the_book_top_equals_the_exchange_book_ticker() -> None:
    """Compare each rebuilt top with the latest bookTicker whose ``u`` is not above the batch's.

    Only tickers newer than the symbol's snapshot count: one at or below ``lastUpdateId`` shows
    a state the book took over from the snapshot rather than rebuilt from diffs.
    """
    tickers = recorded_book_tickers()
    snapshot_ids = recorded_snapshot_ids()
    compared = 0
    disagreements = []
    for top in replay_book(RECORDING):
        candidates = [
            ticker
            for ticker in tickers[top.symbol]
            if snapshot_ids[top.symbol] < ticker.update_id <= top.update_id
        ]
        if not candidates:
            continue
        ticker = max(candidates, key=lambda bbo: bbo.update_id)
        compared += 1
        rebuilt = (top.bid, top.bid_qty, top.ask, top.ask_qty)
        expected = (ticker.bid, ticker.bid_qty, ticker.ask, ticker.ask_qty)
        if rebuilt != expected:
            disagreements.append((top.symbol, top.update_id, rebuilt, expected))

    assert disagreements == []
    assert compared == 525


def test_every_symbol_of_the_recording_is_rebuilt_in_update_order() -> None:
    tops = list(replay_book(RECORDING))

    assert {top.symbol for top in tops} == SYMBOLS
    for symbol in SYMBOLS:
        ids = [top.update_id for top in tops if top.symbol == symbol]
        assert ids == sorted(set(ids))


def test_one_symbol_can_be_rebuilt_alone() -> None:
    tops = list(replay_book(RECORDING, symbol="XMRBTC"))

    assert tops
    assert {top.symbol for top in tops} == {"XMRBTC"}
    assert tops == [top for top in replay_book(RECORDING) if top.symbol == "XMRBTC"]


@pytest.mark.parametrize(
    ("url", "symbol"),
    [
        ("https://api.binance.com/api/v3/depth?symbol=XMRBTC&limit=5000", "XMRBTC"),
        ("http://127.0.0.1:8080/api/v3/depth?limit=100&symbol=btcusdt", "BTCUSDT"),
        ("https://api.binance.com/api/v3/klines?symbol=XMRBTC&interval=1m", None),
        ("https://api.binance.com/api/v3/depth", None),
        ("wss://stream.binance.com:9443/stream?streams=xmrbtc@depth", None),
    ],
)
def test_depth_snapshot_requests_are_recognised_by_url(url: str, symbol: str | None) -> None:
    assert depth_snapshot_symbol(url) == symbol


def replay_line(t: str, ts: float, url: str, data: object) -> str:
    return json.dumps({"t": t, "ts": ts, "url": url, "data": json.dumps(data)}) + "\n"


def depth_frame(first: int, final: int, bids: list[list[str]]) -> dict[str, object]:
    data = {"e": "depthUpdate", "E": 1, "s": "BTCUSDT", "U": first, "u": final, "b": bids, "a": []}
    return {"stream": "btcusdt@depth@100ms", "data": data}


STREAM_URL = "wss://stream.example/stream?streams=btcusdt@depth@100ms"
DEPTH_URL = "https://api.example/api/v3/depth?symbol=BTCUSDT&limit=5000"


def test_buffered_diffs_replayed_over_a_snapshot_make_one_batch(tmp_path: Path) -> None:
    replay = tmp_path / "replay.jsonl"
    replay.write_text(
        replay_line("ws", 1.0, STREAM_URL, depth_frame(9, 10, [["1.0", "1"]]))
        + replay_line("ws", 1.1, STREAM_URL, depth_frame(11, 12, [["2.0", "1"]]))
        + replay_line("ws", 1.2, STREAM_URL, depth_frame(13, 13, [["3.0", "1"]]))
        + replay_line(
            "http", 1.3, DEPTH_URL, {"lastUpdateId": 11, "bids": [], "asks": [["9", "1"]]}
        )
        + replay_line("ws", 1.4, STREAM_URL, depth_frame(14, 14, [["4.0", "1"]]))
    )

    tops = [(top.update_id, top.bid, top.receive_time) for top in replay_book(replay)]

    assert tops == [(13, "3.0", 1300), (14, "4.0", 1400)]


def test_plain_frames_are_decoded_by_the_stream_in_their_url(tmp_path: Path) -> None:
    replay = tmp_path / "replay.jsonl"
    plain_url = "wss://stream.example/ws/btcusdt@depth@100ms"
    replay.write_text(
        replay_line("http", 1.0, DEPTH_URL, {"lastUpdateId": 8, "bids": [], "asks": [["9", "1"]]})
        + replay_line("ws", 1.1, plain_url, depth_frame(9, 10, [["1.0", "2"]])["data"])
    )

    assert [(top.update_id, top.bid) for top in replay_book(replay)] == [(10, "1.0")]


def test_a_malformed_frame_is_reported_with_its_entry(tmp_path: Path) -> None:
    replay = tmp_path / "replay.jsonl"
    bad = depth_frame(9, 10, [["1.0", "one"]])
    replay.write_text(replay_line("ws", 1.0, STREAM_URL, bad))

    with pytest.raises(FrameError, match=r"entry 1 \(wss://stream.example/.*`b`"):
        list(replay_book(replay))

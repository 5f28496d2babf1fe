"""aggTrade frames read by the compiled extension: exactly the Python path's trades, or refused.

The extension (``native/``) is optional; these tests run wherever it is built, as
``scripts/setup.sh`` builds it when cargo is at hand. Whatever it refuses, the Python path
reads (and names what is wrong with a bad frame), so the one thing it must never do is take a
frame that the Python path reads differently or refuses.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamforge.exchanges.binance.normalize import (
    FrameError,
    decode_frame,
    decode_live_frame,
    live_trade_template,
)
from streamforge.exchanges.binance.trade_json import NATIVE, EncodedTrade
from streamforge.exchanges.replay import read_replay
from streamforge.schemas import Trade
from tests.exchanges.binance.test_normalize import _FAULTS, RECEIVED, RECORDING

if NATIVE is None:
    pytest.skip("the compiled extension is not built here", allow_module_level=True)

TEMPLATE = NATIVE.TradeTemplate(*live_trade_template())


def native(frame: bytes) -> EncodedTrade | None:
    """The extension's reading of ``frame``, as the loader gets it."""
    trade = NATIVE.decode_agg_trade_frame(frame, TEMPLATE, RECEIVED)
    return None if trade is None else EncodedTrade(*trade)


def reference(frame: bytes) -> EncodedTrade | str:
    """The Python path's trade, or its error."""
    try:
        record = decode_frame(frame, RECEIVED)
    except FrameError as exc:
        return f"FrameError: {exc}"
    return EncodedTrade.of(record) if isinstance(record, Trade) else repr(record)


def frame_of(symbol: str, data: dict[str, Any], stream: str | None = None) -> bytes:
    """A combined-stream frame as Binance writes it (no spaces, keys in its order)."""
    envelope = {"stream": stream or f"{symbol.lower()}@aggTrade", "data": data}
    return json.dumps(envelope, separators=(",", ":")).encode()


_ID = st.integers(0, 10**18 - 1)  # up to 18 digits: all taken by the extension
_DECIMAL = st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,8})?", fullmatch=True)
trades = st.fixed_dictionaries(
    {
        "e": st.just("aggTrade"),
        "E": _ID,
        "s": st.sampled_from(["BTCUSDT", "ETHBTC", "1INCHUSDT"]),
        "a": _ID,
        "p": _DECIMAL,
        "q": _DECIMAL,
        "f": st.just(0),
        "l": _ID,
        "T": _ID,
        "m": st.booleans(),
        "M": st.booleans(),
    }
).map(lambda data: {key: data[key] for key in "eEsapqflTmM"})  # Binance's key order


@given(trades)
def test_a_frame_in_binance_form_is_taken_and_reads_as_the_python_path(
    data: dict[str, Any],
) -> None:
    frame = frame_of(data["s"], data)
    trade = native(frame)
    assert trade is not None
    assert trade == reference(frame)
    assert decode_live_frame(frame, RECEIVED) == trade


@given(trades, _FAULTS)
def test_a_faulty_frame_is_refused_or_read_as_the_python_path(
    data: dict[str, Any], fault: Any
) -> None:
    if fault == ("l", "swapped"):
        data["f"], data["l"] = data["l"] + 1, data["l"]
    elif fault is not None:
        data[fault[0]] = fault[1]
    frame = frame_of(data["s"], data)
    trade = native(frame)
    assert trade is None or trade == reference(frame)
    if fault is not None and fault[0] != "M":
        assert trade is None


@given(trades, st.integers(0, 400), st.binary(max_size=3), st.integers(0, 3))
def test_a_frame_garbled_anywhere_is_refused_or_read_as_the_python_path(
    data: dict[str, Any], at: int, inserted: bytes, removed: int
) -> None:
    frame = frame_of(data["s"], data)
    at = min(at, len(frame))
    garbled = frame[:at] + inserted + frame[at + removed :]
    trade = native(garbled)
    assert trade is None or trade == reference(garbled)


@pytest.mark.parametrize(
    "frame",
    [
        frame_of("BTCUSDT", {"e": "aggTrade", "E": 1, "s": "BTCUSDT"}),  # fields missing
        frame_of("BTCUSDT", {"s": "BTCUSDT", "e": "aggTrade"}),  # keys in another order
        frame_of("BTCUSDT", {}, stream="ethusdt@aggTrade"),
        b'{"stream": "btcusdt@aggTrade"}',
        b"not json",
    ],
    ids=["missing", "order", "other-stream", "spaces", "garbage"],
)
def test_frames_in_any_other_form_are_left_to_the_python_path(frame: bytes) -> None:
    assert native(frame) is None


def test_every_aggtrade_frame_of_the_recording_is_taken_and_reads_as_the_python_path() -> None:
    frames = [
        entry.data.encode()
        for entry in read_replay(RECORDING)
        if entry.t == "ws" and "@aggTrade" in entry.data[:40]
    ]
    assert len(frames) == 28
    for frame in frames:
        trade = native(frame)
        assert trade is not None, frame
        assert trade == reference(frame)


def test_a_negative_receive_time_is_refused() -> None:
    frame = frame_of("BTCUSDT", {})
    with pytest.raises(ValueError, match="not negative"):
        NATIVE.decode_agg_trade_frame(frame, TEMPLATE, -1)

"""Binance spot payloads become wire contracts with the exchange's exact decimal text."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamforge.exchanges.binance.normalize import (
    FrameError,
    UnsupportedStreamError,
    decode_agg_trades,
    decode_depth_snapshot,
    decode_frame,
    decode_klines,
    decode_live_frame,
    decode_stream_payload,
)
from streamforge.exchanges.binance.trade_json import EncodedTrade
from streamforge.exchanges.replay import read_replay
from streamforge.schemas import (
    BBO,
    AnyMarketRecord,
    BookSnapshot,
    Candle,
    Codec,
    DepthDiff,
    Ticker,
    Trade,
    encode,
)

RECORDING = Path(__file__).parents[2] / "data/binance/binance-spot-2021-08-14.jsonl"
RECEIVED = 1628952397706

# Frames as the exchange sent them (from the recording, except the mini ticker).
DEPTH_FRAME = (
    '{"stream":"xmrbtc@depth@100ms","data":{"e":"depthUpdate","E":1628952395768,"s":"XMRBTC",'
    '"U":717720856,"u":717720857,"b":[],'
    '"a":[["0.00578700","31.23100000"],["0.00578800","26.04900000"]]}}'
)
BOOK_TICKER_FRAME = (
    '{"stream":"ftmusdt@bookTicker","data":{"u":800360982,"s":"FTMUSDT","b":"0.33989000",'
    '"B":"1565.60000000","a":"0.34012000","A":"703.00000000"}}'
)
AGG_TRADE_FRAME = (
    '{"stream":"ftmusdt@aggTrade","data":{"e":"aggTrade","E":1628952396573,"s":"FTMUSDT",'
    '"a":31718372,"p":"0.33993000","q":"99.90000000","f":38248910,"l":38248910,'
    '"T":1628952396572,"m":true,"M":true}}'
)
KLINE_FRAME = (
    '{"stream":"ftmusdt@kline_1m","data":{"e":"kline","E":1628952396573,"s":"FTMUSDT",'
    '"k":{"t":1628952360000,"T":1628952419999,"s":"FTMUSDT","i":"1m","f":38248833,'
    '"L":38248910,"o":"0.34064000","c":"0.33993000","h":"0.34070000","l":"0.33934000",'
    '"v":"208601.00000000","n":78,"x":false,"q":"70846.76968900","V":"156046.30000000",'
    '"Q":"52984.16932200","B":"0"}}}'
)
MINI_TICKER_FRAME = (
    '{"stream":"bnbbtc@miniTicker","data":{"e":"24hrMiniTicker","E":1672515782136,'
    '"s":"BNBBTC","c":"0.0025","o":"0.0010","h":"0.0025","l":"0.0010","v":"10000","q":"18"}}'
)


def test_a_depth_update_becomes_a_depth_diff() -> None:
    assert decode_frame(DEPTH_FRAME, RECEIVED) == DepthDiff(
        exchange="binance",
        symbol="XMRBTC",
        first_update_id=717720856,
        final_update_id=717720857,
        bids=[],
        asks=[("0.00578700", "31.23100000"), ("0.00578800", "26.04900000")],
        event_time=1628952395768,
        receive_time=RECEIVED,
    )


def test_a_book_ticker_becomes_a_bbo_stamped_with_the_receive_time() -> None:
    assert decode_frame(BOOK_TICKER_FRAME, RECEIVED) == BBO(
        exchange="binance",
        symbol="FTMUSDT",
        update_id=800360982,
        bid="0.33989000",
        bid_qty="1565.60000000",
        ask="0.34012000",
        ask_qty="703.00000000",
        event_time=RECEIVED,
        receive_time=RECEIVED,
    )


def test_an_agg_trade_becomes_a_trade() -> None:
    assert decode_frame(AGG_TRADE_FRAME, RECEIVED) == Trade(
        exchange="binance",
        symbol="FTMUSDT",
        trade_id=31718372,
        price="0.33993000",
        qty="99.90000000",
        first_trade_id=38248910,
        last_trade_id=38248910,
        trade_time=1628952396572,
        buyer_is_maker=True,
        event_time=1628952396573,
        receive_time=RECEIVED,
    )


def test_a_kline_becomes_a_candle() -> None:
    assert decode_frame(KLINE_FRAME, RECEIVED) == Candle(
        exchange="binance",
        symbol="FTMUSDT",
        interval="1m",
        open_time=1628952360000,
        close_time=1628952419999,
        open="0.34064000",
        high="0.34070000",
        low="0.33934000",
        close="0.33993000",
        volume="208601.00000000",
        quote_volume="70846.76968900",
        trades=78,
        taker_buy_volume="156046.30000000",
        taker_buy_quote_volume="52984.16932200",
        closed=False,
        event_time=1628952396573,
        receive_time=RECEIVED,
    )


def test_a_mini_ticker_becomes_a_ticker() -> None:
    assert decode_frame(MINI_TICKER_FRAME, RECEIVED) == Ticker(
        exchange="binance",
        symbol="BNBBTC",
        open="0.0010",
        high="0.0025",
        low="0.0010",
        last="0.0025",
        volume="10000",
        quote_volume="18",
        event_time=1672515782136,
        receive_time=RECEIVED,
    )


def test_a_plain_ws_frame_is_decoded_by_the_stream_it_came_from() -> None:
    payload = '{"u":1,"s":"BTCUSDT","b":"1.0","B":"2.0","a":"3.0","A":"4.0"}'

    bbo = decode_stream_payload("btcusdt@bookTicker", payload, RECEIVED)

    assert isinstance(bbo, BBO)
    assert (bbo.bid, bbo.bid_qty, bbo.ask, bbo.ask_qty) == ("1.0", "2.0", "3.0", "4.0")


def test_every_kline_interval_is_a_kline_stream() -> None:
    frame = KLINE_FRAME.replace("kline_1m", "kline_1M").replace('"i":"1m"', '"i":"1M"')

    candle = decode_frame(frame, RECEIVED)

    assert isinstance(candle, Candle)
    assert candle.interval == "1M"


def test_levels_in_non_compact_json_are_accepted_too() -> None:
    frame = DEPTH_FRAME.replace('[["0.00578700","31.23100000"]', '[ [ "0.00578700" , "31.231" ]')

    diff = decode_frame(frame, RECEIVED)

    assert isinstance(diff, DepthDiff)
    assert diff.asks[0] == ("0.00578700", "31.231")


def test_every_frame_of_the_recording_satisfies_its_contract() -> None:
    codec: Codec[AnyMarketRecord] = Codec(AnyMarketRecord)
    kinds = set()
    for entry in read_replay(RECORDING):
        if entry.t == "ws":
            record = decode_frame(entry.data, round(entry.ts * 1000))
            assert codec.decode(encode(record)) == record
            kinds.add(type(record))

    assert kinds == {DepthDiff, BBO, Trade, Candle}


def test_rest_kline_rows_become_candles_closed_once_their_interval_ended() -> None:
    body = (
        '[[1499040000000,"0.01634790","0.80000000","0.01575800","0.01577100",'
        '"148976.11427815",1499644799999,"2434.19055334",308,"1756.87402397",'
        '"28.46694368","0"]]'
    )

    [closed] = decode_klines(body, "BNBBTC", "1w", receive_time=1499644800000)
    [still_open] = decode_klines(body, "BNBBTC", "1w", receive_time=1499644700000)

    assert closed == Candle(
        exchange="binance",
        symbol="BNBBTC",
        interval="1w",
        open_time=1499040000000,
        close_time=1499644799999,
        open="0.01634790",
        high="0.80000000",
        low="0.01575800",
        close="0.01577100",
        volume="148976.11427815",
        quote_volume="2434.19055334",
        trades=308,
        taker_buy_volume="1756.87402397",
        taker_buy_quote_volume="28.46694368",
        closed=True,
        event_time=1499644799999,
        receive_time=1499644800000,
    )
    assert (still_open.closed, still_open.event_time) == (False, 1499644700000)


def test_rest_agg_trade_rows_become_trades_as_of_their_trade_time() -> None:
    body = (
        '[{"a":26129,"p":"0.01633102","q":"4.70443515","f":27781,"l":27781,'
        '"T":1498793709153,"m":true,"M":true}]'
    )

    assert decode_agg_trades(body, "LTCBTC", RECEIVED) == [
        Trade(
            exchange="binance",
            symbol="LTCBTC",
            trade_id=26129,
            price="0.01633102",
            qty="4.70443515",
            first_trade_id=27781,
            last_trade_id=27781,
            trade_time=1498793709153,
            buyer_is_maker=True,
            event_time=1498793709153,
            receive_time=RECEIVED,
        )
    ]


def test_a_rest_depth_response_becomes_a_book_snapshot() -> None:
    body = '{"lastUpdateId":1027024,"bids":[["4.00000000","431.00000000"]],"asks":[]}'

    assert decode_depth_snapshot(body, "BNBBTC", RECEIVED) == BookSnapshot(
        exchange="binance",
        symbol="BNBBTC",
        last_update_id=1027024,
        depth=1,
        bids=[("4.00000000", "431.00000000")],
        asks=[],
        timestamp=RECEIVED,
    )


def depth_with(**fields: str) -> str:
    """The depth frame with some of its payload's raw JSON values replaced."""
    frame = DEPTH_FRAME
    originals = {"e": '"depthUpdate"', "s": '"XMRBTC"', "U": "717720856", "b": "[]"}
    for name, value in fields.items():
        frame = frame.replace(f'"{name}":{originals[name]}', f'"{name}":{value}')
    return frame


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("not json", "not a combined-stream frame"),
        ('{"result":null,"id":1}', "missing required field `stream`"),
        (depth_with(b='[["1.0","1e-5"]]'), "at `$[0][1]` in `b`"),
        (depth_with(b='[["1.0"]]'), "in `b`"),
        (depth_with(b='"none"'), "in `b`"),
        (depth_with(U="717720858"), "U=717720858 is above final update id u=717720857"),
        (depth_with(U="-1"), "`$.U`"),
        (depth_with(s='"xmrbtc"'), "not an upper-case symbol: 'xmrbtc'"),
        (depth_with(e='"aggTrade"'), "`$.e`"),
        (BOOK_TICKER_FRAME.replace('"b":"0.33989000"', '"b":0.33989'), "`$.b`"),
        (BOOK_TICKER_FRAME.replace('"A":"703.00000000"', '"A":"-703"'), "`A` is not decimal"),
        (BOOK_TICKER_FRAME.replace(',"A":"703.00000000"', ""), "missing required field `A`"),
        (AGG_TRADE_FRAME.replace('"f":38248910', '"f":38248911'), "f=38248911 is above"),
        (KLINE_FRAME.replace('"c":"0.33993000"', '"c":"NaN"'), "`c` is not decimal"),
    ],
)
@pytest.mark.parametrize("as_bytes", [False, True], ids=["text", "bytes"])
@pytest.mark.parametrize("decode", [decode_frame, decode_live_frame])
def test_a_malformed_frame_raises_a_frame_error_saying_what_is_wrong(
    frame: str, message: str, as_bytes: bool, decode: Callable[[bytes | str, int], object]
) -> None:
    with pytest.raises(FrameError) as raised:
        decode(frame.encode() if as_bytes else frame, RECEIVED)

    assert message in str(raised.value)


@pytest.mark.parametrize(
    "frame", [DEPTH_FRAME, BOOK_TICKER_FRAME, AGG_TRADE_FRAME, KLINE_FRAME, MINI_TICKER_FRAME]
)
def test_frames_decode_alike_whatever_their_key_order(frame: str) -> None:
    envelope = json.loads(frame)
    data_first = json.dumps({"data": envelope["data"], "stream": envelope["stream"]})

    expected = decode_frame(frame, RECEIVED)
    assert decode_frame(frame.encode(), RECEIVED) == expected
    assert decode_frame(data_first.encode(), RECEIVED) == expected


def test_a_frame_whose_first_name_is_not_its_stream_decodes_by_its_stream() -> None:
    # Two ``stream`` keys: JSON decoding keeps the last, so the frame is a trade after all.
    frame = AGG_TRADE_FRAME.replace('{"stream":', '{"stream":"xmrbtc@miniTicker","stream":', 1)

    assert decode_frame(frame.encode(), RECEIVED) == decode_frame(AGG_TRADE_FRAME, RECEIVED)


def test_a_live_frame_is_the_decoded_frame_but_a_trade_comes_encoded() -> None:
    trade = decode_frame(AGG_TRADE_FRAME.encode(), RECEIVED)
    assert isinstance(trade, Trade)

    assert decode_live_frame(AGG_TRADE_FRAME.encode(), RECEIVED) == EncodedTrade(
        "FTMUSDT", 31718372, 1628952396573, encode(trade)
    )
    # the general path (text, or any other form) gives the same
    assert decode_live_frame(AGG_TRADE_FRAME, RECEIVED) == EncodedTrade.of(trade)
    for frame in (DEPTH_FRAME, BOOK_TICKER_FRAME, KLINE_FRAME, MINI_TICKER_FRAME):
        assert decode_live_frame(frame.encode(), RECEIVED) == decode_frame(frame, RECEIVED)


_ID = st.integers(0, 2**63 - 1)
_DECIMAL_TEXT = st.from_regex(r"[0-9]{1,12}(\.[0-9]{1,8})?", fullmatch=True)
# At most one field made wrong (or the trade ids swapped), as a frame from a faulty feed might be.
_FAULTS = st.sampled_from(
    [
        None,
        ("s", "b"),
        ("s", 'A"B'),
        ("p", "1."),
        ("p", ".5"),
        ("q", "-1"),
        ("p", '1"'),
        ("q", "\u0660"),
        ("p", "1\x1f2"),
        ("p", 1.5),
        ("a", -1),
        ("f", 2**64),
        ("T", 2**63 + 1),
        ("m", "true"),
        ("E", -5),
        ("l", "swapped"),
    ]
)


@given(
    symbol=st.sampled_from(["BTCUSDT", "ETHBTC", "1INCHUSDT"]),
    ids=st.lists(_ID, min_size=5, max_size=5),
    price=_DECIMAL_TEXT,
    qty=_DECIMAL_TEXT,
    maker=st.booleans(),
    fault=_FAULTS,
)
def test_a_live_trade_is_byte_for_byte_the_decoded_trade_encoded(
    symbol: str, ids: list[int], price: str, qty: str, maker: bool, fault: Any
) -> None:
    trade_id, first_id, last_id, trade_time, event_time = ids
    first_id, last_id = sorted((first_id, last_id))
    data = {
        "e": "aggTrade",
        "E": event_time,
        "s": symbol,
        "a": trade_id,
        "p": price,
        "q": qty,
        "f": first_id,
        "l": last_id,
        "T": trade_time,
        "m": maker,
        "M": True,
    }
    if fault == ("l", "swapped") and first_id != last_id:
        data["f"], data["l"] = last_id, first_id
    elif fault is not None:
        data[fault[0]] = fault[1]
    frame = json.dumps({"stream": "btcusdt@aggTrade", "data": data}, separators=(",", ":"))
    decoded = _outcome(lambda: EncodedTrade.of(decode_frame(frame, RECEIVED)))  # type: ignore[arg-type]
    assert _outcome(lambda: decode_live_frame(frame.encode(), RECEIVED)) == decoded


def _outcome(decode: Callable[[], object]) -> object:
    """What ``decode`` returns, or the message of the FrameError it raises."""
    try:
        return decode()
    except FrameError as exc:
        return f"FrameError: {exc}"


def test_the_frame_error_names_the_stream() -> None:
    with pytest.raises(FrameError, match="xmrbtc@depth@100ms"):
        decode_frame(depth_with(s='"x"'), RECEIVED)


def test_a_stream_kind_without_a_contract_is_unsupported() -> None:
    with pytest.raises(UnsupportedStreamError, match="'btcusdt@trade'"):
        decode_frame('{"stream":"btcusdt@trade","data":{}}', RECEIVED)


@pytest.mark.parametrize(
    "body",
    [
        '[[1499040000000,"0.1","0.8","0.1","0.1","1",1499644799999,"2",308,"1"]]',
        '[[1499040000000,"0.1","0.8","0.1","x","1",1499644799999,"2",308,"1","2","0"]]',
        '{"code":-1121,"msg":"Invalid symbol."}',
    ],
)
def test_a_malformed_rest_klines_response_raises_a_frame_error(body: str) -> None:
    with pytest.raises(FrameError, match="invalid klines response for BNBBTC"):
        decode_klines(body, "BNBBTC", "1m", RECEIVED)


def test_a_malformed_rest_depth_response_names_the_side() -> None:
    body = '{"lastUpdateId":1,"bids":[],"asks":[["1.0","x"]]}'

    with pytest.raises(FrameError, match="in `asks`"):
        decode_depth_snapshot(body, "BNBBTC", RECEIVED)


def test_rest_records_need_a_contract_symbol_from_the_caller() -> None:
    with pytest.raises(ValueError, match="not an upper-case symbol: 'bnbbtc'"):
        decode_agg_trades("[]", "bnbbtc", RECEIVED)

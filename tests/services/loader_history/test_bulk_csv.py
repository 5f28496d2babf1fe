"""Bulk-file CSV rows: read in blocks of lines, validated like REST rows, times in ms."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamforge.exchanges.binance.bulk import (
    BLOCK_BYTES,
    blocks,
    decode_agg_trades_block,
    decode_klines_block,
    encode_agg_trades_block,
)
from streamforge.exchanges.binance.normalize import FrameError
from streamforge.schemas import Trade, encode

MS = 1_735_689_600_123  # 2025-01-01 00:00:00.123 UTC


def trade_line(trade_id: int, time: int) -> str:
    return (
        f"{trade_id},94000.10000000,0.00120000,{trade_id * 2},{trade_id * 2 + 1},{time},False,True"
    )


def trades(text: str, name: str = "trades.csv") -> list[Trade]:
    """The trades of a whole CSV, block by block."""
    line = 1
    out: list[Trade] = []
    for block in blocks(io.BytesIO(text.encode())):
        out += decode_agg_trades_block(block, "BTCUSDT", MS, name, line)
        line += block.count(b"\n")
    return out


def test_microsecond_and_millisecond_rows_read_as_milliseconds() -> None:
    (micro,) = trades(trade_line(7, MS * 1000 + 999) + "\n")
    (milli,) = trades(trade_line(7, MS))
    assert micro == milli
    assert (milli.trade_time, milli.event_time, milli.price) == (MS, MS, "94000.10000000")
    assert (milli.first_trade_id, milli.last_trade_id, milli.buyer_is_maker) == (14, 15, False)


def test_kline_times_are_milliseconds_and_the_row_keeps_its_text() -> None:
    row = f"{MS * 1000},1.10,1.30,1.00,1.20,5.0,{(MS + 60_000) * 1000 - 1},6.0,4,2.0,2.4,0\r\n"
    (block,) = blocks(io.BytesIO(row.encode()))
    (candle,) = decode_klines_block(block, "BTCUSDT", "1m", MS + 120_000)
    assert (candle.open_time, candle.close_time) == (MS, MS + 59_999)
    assert (candle.open, candle.high, candle.low, candle.close) == ("1.10", "1.30", "1.00", "1.20")
    assert (candle.trades, candle.closed, candle.interval) == (4, True, "1m")


def test_a_file_larger_than_a_block_reads_as_blocks_of_whole_lines() -> None:
    count = BLOCK_BYTES // 60 + 1000  # lines cross the block boundary
    text = "".join(trade_line(i, MS + i) + "\n" for i in range(count))
    assert len(text) > BLOCK_BYTES
    assert [len(b) for b in blocks(io.BytesIO(text.encode()))][1] < BLOCK_BYTES
    assert all(b.endswith(b"\n") for b in blocks(io.BytesIO(text.encode())))
    assert [t.trade_id for t in trades(text)] == list(range(count))


def test_a_last_line_without_a_line_end_is_read() -> None:
    assert [t.trade_id for t in trades(f"{trade_line(1, MS)}\n{trade_line(2, MS)}")] == [1, 2]


def encoded(trades: list[Trade]) -> list[bytes]:
    return [encode(trade) for trade in trades]


ids = st.integers(0, 10**12)
decimals = st.from_regex(r"[0-9]{1,8}(\.[0-9]{1,8})?", fullmatch=True)
booleans = st.sampled_from(["True", "False"])  # as Binance writes them
times = st.one_of(st.integers(10**12, 10**13 - 1), st.integers(10**15, 10**16 - 1))
rows = st.tuples(ids, decimals, decimals, ids, st.integers(0, 5), times, booleans, booleans).map(
    lambda r: f"{r[0]},{r[1]},{r[2]},{r[3]},{r[3] + r[4]},{r[5]},{r[6]},{r[7]}\n"
)


@given(st.lists(rows, min_size=1, max_size=40), st.integers(-1, 10**12))
def test_encoded_trades_are_the_decoded_trades_encoded(lines: list[str], after_id: int) -> None:
    block = "".join(lines).encode()
    reference = [t for t in decode_agg_trades_block(block, "ETHUSDT", MS) if t.trade_id > after_id]
    result = encode_agg_trades_block(block, "ETHUSDT", MS, after_id=after_id)
    if not reference:
        assert result is None
        return
    assert result is not None
    assert result.values == encoded(reference)
    assert (result.last_id, result.last_time) == (
        reference[-1].trade_id,
        reference[-1].trade_time,
    )


def test_rows_in_another_form_binance_does_not_write_are_read_the_same() -> None:
    block = f"{trade_line(1, MS)}\n{trade_line(2, MS).replace('False,True', 'true,1')}\n".encode()
    result = encode_agg_trades_block(block, "BTCUSDT", MS)
    assert result is not None
    assert result.values == encoded(decode_agg_trades_block(block, "BTCUSDT", MS))
    assert b'"buyer_is_maker":true' in result.values[1]


@pytest.mark.parametrize(
    ("bad_line", "detail"),
    [
        (trade_line(3, MS).replace("94000.10000000", "9.4e4"), "`p` is not decimal text"),
        ("x" + trade_line(3, MS).removeprefix("3"), "Expected `int`, got `str`"),
        ("3,1.0,1.0,9,8,1735689600123,True,True", "first trade id f=9 is above last"),
        ("3,1.0", "Expected `array` of at least length 7"),
    ],
)
def test_a_bad_row_fails_naming_the_file_and_line(bad_line: str, detail: str) -> None:
    text = "\n".join([trade_line(1, MS), trade_line(2, MS), bad_line]) + "\n"
    with pytest.raises(FrameError, match=r"^day\.csv: line 3: ") as failure:
        trades(text, "day.csv")
    assert detail in str(failure.value)
    with pytest.raises(FrameError, match=r"^day\.csv: line 7: ") as failure:
        encode_agg_trades_block(text.encode(), "BTCUSDT", MS, "day.csv", first_line=5)
    assert detail in str(failure.value)


def test_quotes_are_refused_rather_than_read_into_other_columns() -> None:
    with pytest.raises(FrameError, match=r"^day\.csv: quotes or backslashes after line 1"):
        trades(trade_line(1, MS).replace("94000.10000000", '"94000.1"'), "day.csv")

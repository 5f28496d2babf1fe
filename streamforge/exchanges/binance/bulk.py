"""Binance's bulk history files: where the daily files live and how their CSV rows read.

A daily file ``spot/daily/klines/SYMBOL/INTERVAL/SYMBOL-INTERVAL-YYYY-MM-DD.zip`` (or
``spot/daily/aggTrades/SYMBOL/SYMBOL-aggTrades-YYYY-MM-DD.zip``) is a zip holding one CSV without
a header, whose rows have the columns of the REST rows. From 2025-01-01 on, spot timestamps are in
microseconds; the decoders normalize them to milliseconds.

A CSV is read in blocks of whole lines (:func:`blocks`), so a file is never held in memory
whole, and each block is decoded on its own (in another process, if the caller likes). Rows are
validated by the same row types as REST responses (:mod:`.normalize`).
"""

from __future__ import annotations

import functools
import re
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import IO, Any, TypeVar

import msgspec

from streamforge.exchanges.binance import EXCHANGE
from streamforge.exchanges.binance.normalize import (
    FrameError,
    _AggTradeRow,
    _KlineRow,
    build_trade,
)
from streamforge.exchanges.binance.trade_json import (
    NATIVE,
    TEMPLATE_SLOTS,
    UncheckedTrade,
    sentinels,
    template_of,
)
from streamforge.schemas import Candle, Trade, encode
from streamforge.schemas.fields import DECIMAL_PATTERN
from streamforge.schemas.market import valid_series

#: A timestamp above this is in microseconds (as milliseconds it would be after year 5000).
MICROSECONDS_ABOVE = 10**14
#: Bytes read from a CSV at a time (about ten thousand aggregate trades).
BLOCK_BYTES = 1 << 20

Row = TypeVar("Row")


def _millis(timestamp: int) -> int:
    return timestamp // 1000 if timestamp > MICROSECONDS_ABOVE else timestamp


class _AggTradeCsvRow(_AggTradeRow, array_like=True):
    """A bulk aggTrades row: ``aggId, price, qty, firstId, lastId, time, isBuyerMaker, ...``."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.trade_time = _millis(self.trade_time)


class _KlineCsvRow(_KlineRow):
    """A bulk klines row: the REST kline row, possibly with microsecond times."""

    def __post_init__(self) -> None:
        super().__post_init__()
        self.open_time = _millis(self.open_time)
        self.close_time = _millis(self.close_time)


# A block becomes a JSON array of arrays of strings by two replacements, exact for text without
# quotes and backslashes (what a numeric CSV holds); msgspec then decodes it into rows in one
# pass, converting texts to numbers and booleans: several times faster than splitting lines.
_TRADE_ROWS = msgspec.json.Decoder(list[_AggTradeCsvRow], strict=False)
_KLINE_ROWS = msgspec.json.Decoder(list[_KlineCsvRow], strict=False)
_ROW_INDEX = re.compile(r"at `\$\[(\d+)\]")


def daily_klines_path(symbol: str, interval: str, day: date) -> str:
    """Path (below the data site's base URL) of one day's klines file."""
    return f"spot/daily/klines/{symbol}/{interval}/{symbol}-{interval}-{day.isoformat()}.zip"


def daily_agg_trades_path(symbol: str, day: date) -> str:
    """Path (below the data site's base URL) of one day's aggregate trades file."""
    return f"spot/daily/aggTrades/{symbol}/{symbol}-aggTrades-{day.isoformat()}.zip"


@contextmanager
def open_csv(archive: Path) -> Iterator[IO[bytes]]:
    """The CSV inside a downloaded zip, as a stream that decompresses while it is read."""
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.namelist()
            if len(members) != 1:
                raise FrameError(f"{archive.name}: expected one CSV, found {len(members)} files")
            with bundle.open(members[0]) as stream:
                yield stream
    except zipfile.BadZipFile as exc:
        raise FrameError(f"{archive.name}: not a zip file: {exc}") from None


def blocks(stream: IO[bytes]) -> Iterator[bytes]:
    """The stream in blocks of about :data:`BLOCK_BYTES` of whole lines, ending in ``\\n``."""
    rest = b""
    while block := stream.read(BLOCK_BYTES):
        block = rest + block.replace(b"\r", b"")
        cut = block.rfind(b"\n") + 1
        rest = block[cut:]
        if cut:
            yield block[:cut]
    if rest:
        yield rest + b"\n"


def decode_agg_trades_block(
    block: bytes, symbol: str, receive_time: int, name: str = "aggTrades CSV", first_line: int = 1
) -> list[Trade]:
    """The aggregate trades of a block of CSV lines; as for REST trades, the trade time is the
    event time. An invalid row raises :class:`FrameError` naming ``name`` and its line."""
    rows: list[_AggTradeCsvRow] = _decode(_TRADE_ROWS, block, name, first_line)
    return [row.to_trade(symbol, row.trade_time, receive_time) for row in rows]


def decode_klines_block(
    block: bytes,
    symbol: str,
    interval: str,
    receive_time: int,
    name: str = "klines CSV",
    first_line: int = 1,
) -> list[Candle]:
    """The klines of a block of CSV lines (see :func:`decode_agg_trades_block`)."""
    rows: list[_KlineCsvRow] = _decode(_KLINE_ROWS, block, name, first_line)
    return [row.to_candle(symbol, interval, receive_time) for row in rows]


class EncodedTrades(msgspec.Struct, frozen=True):
    """Trades encoded (as :func:`streamforge.schemas.encode` encodes each), in order, with the
    id and time (epoch ms) of the last."""

    values: list[bytes]
    last_id: int
    last_time: int


def encode_agg_trades_block(
    block: bytes,
    symbol: str,
    receive_time: int,
    name: str = "aggTrades CSV",
    first_line: int = 1,
    after_id: int = -1,
) -> EncodedTrades | None:
    """The trades of a block of CSV lines with ids above ``after_id``, encoded; None if none.

    Byte for byte what encoding :func:`decode_agg_trades_block`'s trades gives, at a third of
    the cost for blocks in the form Binance writes (checked with one regex pass over the block,
    then rows encoded without building Trades); any other block takes the general
    path, which also names the line of an invalid row.
    """
    if valid_series(EXCHANGE, symbol) and _CANONICAL_TRADES(block) is not None:
        try:
            rows: list[_CanonicalTradeRow] = _CANONICAL_TRADE_ROWS.decode(_as_json_rows(block))
        except msgspec.ValidationError:
            pass  # out of range for an int: the general path names the line
        else:
            if not any(row.first_trade_id > row.last_trade_id for row in rows):
                return _encode_rows(rows, symbol, receive_time, after_id)
    trades = [
        trade
        for trade in decode_agg_trades_block(block, symbol, receive_time, name, first_line)
        if trade.trade_id > after_id
    ]
    if not trades:
        return None
    last = trades[-1]
    return EncodedTrades(list(map(encode, trades)), last.trade_id, last.trade_time)


class _CanonicalTradeRow(msgspec.Struct, array_like=True):
    """A bulk aggTrades row already checked by :data:`_CANONICAL_TRADES`."""

    trade_id: int
    price: str
    qty: str
    first_trade_id: int
    last_trade_id: int
    trade_time: int
    buyer_is_maker: bool
    best_match: bool


_DEC, _INT = DECIMAL_PATTERN, "(?:0|[1-9][0-9]*)"
_CANONICAL_TRADES = re.compile(
    rf"(?:{_INT},{_DEC},{_DEC},{_INT},{_INT},{_INT},(?:True|False),(?:True|False)\n)+".encode()
).fullmatch
_CANONICAL_TRADE_ROWS = msgspec.json.Decoder(list[_CanonicalTradeRow], strict=False)


def _encode_rows(
    rows: list[_CanonicalTradeRow], symbol: str, receive_time: int, after_id: int
) -> EncodedTrades | None:
    if after_id >= 0:
        rows = [row for row in rows if row.trade_id > after_id]
    if not rows:
        return None
    last = rows[-1]
    values = [encode(_unchecked_trade(row, symbol, receive_time)) for row in rows]
    return EncodedTrades(values, last.trade_id, _millis(last.trade_time))


def _unchecked_trade(row: _CanonicalTradeRow, symbol: str, receive_time: int) -> msgspec.Struct:
    time = _millis(row.trade_time)  # a bulk row's trade time is its event time
    return build_trade(UncheckedTrade, row, symbol, time, time, receive_time)


def native_framing() -> bool:
    """Whether the compiled extension is at hand for :func:`frame_agg_trades_block`."""
    return NATIVE is not None


class FramedTrades(msgspec.Struct, frozen=True):
    """Trades framed into uncompressed Kafka record batches (each with its record count, framed
    as aiokafka's builder frames them, the CRC not yet written), with the count of trades and
    the id and time (epoch ms) of the last."""

    batches: list[tuple[bytearray, int]]
    count: int
    last_id: int
    last_time: int


def frame_agg_trades_block(
    block: bytes,
    symbol: str,
    receive_time: int,
    key: bytes | None,
    timestamp_ms: int,
    max_batch_bytes: int,
    after_id: int = -1,
) -> FramedTrades | None:
    """The trades of a block with ids above ``after_id`` as the records (keyed ``key``, stamped
    ``timestamp_ms``) of batches of at most about ``max_batch_bytes``, by the compiled extension.

    Its values are byte for byte those of :func:`encode_agg_trades_block`, framed as aiokafka
    frames them, at about a fifth of the cost of both in Python. None where the extension is not
    installed (or ``STREAMFORGE_NATIVE=0``) and for a block not entirely in the form Binance
    writes: :func:`encode_agg_trades_block` takes those.
    """
    if NATIVE is None or not valid_series(EXCHANGE, symbol):
        return None
    template = _native_template(symbol, receive_time)
    framed = NATIVE.frame_agg_trades(block, template, key, timestamp_ms, max_batch_bytes, after_id)
    return None if framed is None else FramedTrades(*framed)


#: The fields of a bulk row, which a bulk template leaves to be filled (symbol and receive
#: time are the file's; the event time is the trade time).
_BULK_SLOTS = frozenset(TEMPLATE_SLOTS[:7])


def agg_trade_template(symbol: str, receive_time: int) -> tuple[list[bytes], list[int]]:
    """What :func:`encode_agg_trades_block` writes for a row of ``symbol``, as a template (see
    :func:`~streamforge.exchanges.binance.trade_json.template_of`)."""
    fields = {field: value for field, value in sentinels().items() if field in _BULK_SLOTS}
    row = _CanonicalTradeRow(**fields, best_match=True)
    return template_of(encode(_unchecked_trade(row, symbol, receive_time)), _BULK_SLOTS)


@functools.lru_cache(maxsize=64)
def _native_template(symbol: str, receive_time: int) -> Any:
    assert NATIVE is not None
    return NATIVE.TradeTemplate(*agg_trade_template(symbol, receive_time))


def _as_json_rows(block: bytes) -> bytes:
    """A block of CSV lines without quotes or backslashes as a JSON array of arrays of texts."""
    cells = block.rstrip(b"\n").replace(b",", b'","').replace(b"\n", b'"],["')
    return b'[["' + cells + b'"]]'


def _decode(
    decoder: msgspec.json.Decoder[list[Row]], block: bytes, name: str, first_line: int
) -> list[Row]:
    if b'"' in block or b"\\" in block:
        raise FrameError(f"{name}: quotes or backslashes after line {first_line}: not a bulk CSV")
    try:
        return decoder.decode(_as_json_rows(block))
    except msgspec.DecodeError as exc:
        match = _ROW_INDEX.search(str(exc))
        line = first_line + int(match[1]) if match else f"{first_line}+"
        raise FrameError(f"{name}: line {line}: {exc}") from None

"""Binance spot payloads (WebSocket streams and REST responses) to the wire contracts.

msgspec decodes each payload in one pass into a Struct that mirrors Binance's field names and
checks types, non-negative ids and times; the decimal and symbol texts are then checked against
the contract's own patterns (with compiled regexes, several times faster than msgspec's pattern
constraints), and the fields move into the contract unchanged: prices and quantities stay the
exchange's exact text. Anything that does not fit raises :class:`FrameError` naming the stream
and the field.

Supported streams (``<symbol>@<kind>``): ``depth``, ``depth@100ms``, ``depth@1000ms``,
``bookTicker``, ``aggTrade``, ``kline_<interval>`` and ``miniTicker``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, Protocol, TypeVar

import msgspec

from streamforge.exchanges.binance import EXCHANGE
from streamforge.exchanges.binance.trade_json import (
    NATIVE,
    TEMPLATE_SLOTS,
    EncodedTrade,
    UncheckedTrade,
    sentinels,
    template_of,
)
from streamforge.schemas import BBO, BookSnapshot, Candle, DepthDiff, Ticker, Trade, encode
from streamforge.schemas.fields import (
    DECIMAL_PATTERN,
    SYMBOL_PATTERN,
    EpochMillis,
    ExchangeId,
    Level,
)

#: What a market-data stream frame normalizes to.
StreamRecord = DepthDiff | BBO | Trade | Candle | Ticker
#: What a stream frame normalizes to for a loader (see :func:`decode_live_frame`).
LiveRecord = DepthDiff | BBO | EncodedTrade | Candle | Ticker

_Count = Annotated[int, msgspec.Meta(ge=0)]
T = TypeVar("T")


class FrameError(ValueError):
    """A payload that is not what its stream or endpoint promises; the message says what."""


class UnsupportedStreamError(FrameError):
    """A well-formed frame of a stream kind this module does not normalize."""


_DECIMAL_TEXT = re.compile(DECIMAL_PATTERN)
_SYMBOL_TEXT = re.compile(SYMBOL_PATTERN)


def _check_symbol(symbol: str) -> None:
    if _SYMBOL_TEXT.fullmatch(symbol) is None:
        raise ValueError(f"not an upper-case symbol: {symbol!r}")


def _check_decimals(**texts: str) -> None:
    """Raise ValueError naming the first field (by Binance's name) that is not decimal text."""
    for name, text in texts.items():
        if _DECIMAL_TEXT.fullmatch(text) is None:
            raise ValueError(f"`{name}` is not decimal text: {text!r}")


class _Payload(msgspec.Struct):
    """A decoded stream payload that knows its contract.

    The contract's own constructor checks the record's texts (symbol, decimals), so a payload
    does not check them twice: only when the contract refuses one, :meth:`explain` finds the
    culprit again to name it by Binance's field name.
    """

    def to_record(self, receive_time: int) -> StreamRecord:
        raise NotImplementedError

    def to_live(self, receive_time: int) -> LiveRecord:
        """What a loader publishes: the record, or for a trade its encoded form."""
        return _live(self.to_record(receive_time))

    def explain(self) -> None:
        """Raise ValueError naming the Binance field whose text the contract refused."""


class _DepthUpdate(_Payload):
    """A ``depthUpdate``; its levels are checked and decoded by :func:`_levels`."""

    event: Literal["depthUpdate"] = msgspec.field(name="e")
    event_time: EpochMillis = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    first_update_id: ExchangeId = msgspec.field(name="U")
    final_update_id: ExchangeId = msgspec.field(name="u")
    bids: msgspec.Raw = msgspec.field(name="b")
    asks: msgspec.Raw = msgspec.field(name="a")

    def __post_init__(self) -> None:
        _check_symbol(self.symbol)
        if self.first_update_id > self.final_update_id:
            raise ValueError(
                f"first update id U={self.first_update_id} is above "
                f"final update id u={self.final_update_id}"
            )

    def to_record(self, receive_time: int) -> DepthDiff:
        return DepthDiff(
            exchange=EXCHANGE,
            symbol=self.symbol,
            first_update_id=self.first_update_id,
            final_update_id=self.final_update_id,
            bids=_levels(self.bids, "b"),
            asks=_levels(self.asks, "a"),
            event_time=self.event_time,
            receive_time=receive_time,
        )


class _BookTicker(_Payload):
    update_id: ExchangeId = msgspec.field(name="u")
    symbol: str = msgspec.field(name="s")
    bid: str = msgspec.field(name="b")
    bid_qty: str = msgspec.field(name="B")
    ask: str = msgspec.field(name="a")
    ask_qty: str = msgspec.field(name="A")

    def explain(self) -> None:
        _check_symbol(self.symbol)
        _check_decimals(b=self.bid, B=self.bid_qty, a=self.ask, A=self.ask_qty)

    def to_record(self, receive_time: int) -> BBO:
        # Spot bookTicker frames carry no event time: the receive time stands in for it.
        return BBO(
            exchange=EXCHANGE,
            symbol=self.symbol,
            update_id=self.update_id,
            bid=self.bid,
            bid_qty=self.bid_qty,
            ask=self.ask,
            ask_qty=self.ask_qty,
            event_time=receive_time,
            receive_time=receive_time,
        )


class AggTradeFields(Protocol):
    """What an aggregate trade row holds, whatever it was decoded from."""

    trade_id: int
    price: str
    qty: str
    first_trade_id: int
    last_trade_id: int
    buyer_is_maker: bool


def build_trade(
    build: Callable[..., T],
    row: AggTradeFields,
    symbol: str,
    trade_time: int,
    event_time: int,
    receive_time: int,
) -> T:
    """``build`` (:class:`Trade`, or its unchecked twin) called with the Trade fields of ``row``
    and the rest."""
    return build(
        exchange=EXCHANGE,
        symbol=symbol,
        trade_id=row.trade_id,
        price=row.price,
        qty=row.qty,
        first_trade_id=row.first_trade_id,
        last_trade_id=row.last_trade_id,
        trade_time=trade_time,
        buyer_is_maker=row.buyer_is_maker,
        event_time=event_time,
        receive_time=receive_time,
    )


class _AggTradeFields(msgspec.Struct):
    """The fields of an aggregate trade, shared by REST rows, dump rows and stream payloads."""

    trade_id: ExchangeId = msgspec.field(name="a")
    price: str = msgspec.field(name="p")
    qty: str = msgspec.field(name="q")
    first_trade_id: ExchangeId = msgspec.field(name="f")
    last_trade_id: ExchangeId = msgspec.field(name="l")
    trade_time: EpochMillis = msgspec.field(name="T")
    buyer_is_maker: bool = msgspec.field(name="m")

    def __post_init__(self) -> None:
        if self.first_trade_id > self.last_trade_id:
            raise ValueError(
                f"first trade id f={self.first_trade_id} is above "
                f"last trade id l={self.last_trade_id}"
            )

    def to_trade(self, symbol: str, event_time: int, receive_time: int) -> Trade:
        return build_trade(Trade, self, symbol, self.trade_time, event_time, receive_time)


class _AggTradeRow(_AggTradeFields):
    """One aggregate trade as the REST ``aggTrades`` endpoint returns it (checked as decoded,
    so that a bad row of a dump file is named by its line)."""

    def __post_init__(self) -> None:
        _check_decimals(p=self.price, q=self.qty)
        super().__post_init__()


class _AggTrade(_AggTradeFields, _Payload):
    event: Literal["aggTrade"] = msgspec.field(name="e")
    event_time: EpochMillis = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")

    def explain(self) -> None:
        _check_symbol(self.symbol)
        _check_decimals(p=self.price, q=self.qty)

    def to_record(self, receive_time: int) -> Trade:
        return self.to_trade(self.symbol, self.event_time, receive_time)

    def to_live(self, receive_time: int) -> EncodedTrade:
        # The Trade's own checks, at once, then the Trade's JSON without building a Trade.
        if not Trade.texts_pass((EXCHANGE, self.symbol, self.price, self.qty)):
            self.explain()
        return EncodedTrade(
            self.symbol, self.trade_id, self.event_time, self.trade_json(receive_time)
        )

    def trade_json(self, receive_time: int) -> bytes:
        """The JSON of the Trade of this payload, its texts already checked."""
        trade = build_trade(
            UncheckedTrade, self, self.symbol, self.trade_time, self.event_time, receive_time
        )
        return encode(trade)


class _KlineBody(msgspec.Struct):
    open_time: EpochMillis = msgspec.field(name="t")
    close_time: EpochMillis = msgspec.field(name="T")
    interval: str = msgspec.field(name="i")
    open: str = msgspec.field(name="o")
    high: str = msgspec.field(name="h")
    low: str = msgspec.field(name="l")
    close: str = msgspec.field(name="c")
    volume: str = msgspec.field(name="v")
    quote_volume: str = msgspec.field(name="q")
    trades: _Count = msgspec.field(name="n")
    taker_buy_volume: str = msgspec.field(name="V")
    taker_buy_quote_volume: str = msgspec.field(name="Q")
    closed: bool = msgspec.field(name="x")

    def explain(self) -> None:
        _check_decimals(
            o=self.open,
            h=self.high,
            l=self.low,
            c=self.close,
            v=self.volume,
            q=self.quote_volume,
            V=self.taker_buy_volume,
            Q=self.taker_buy_quote_volume,
        )


class _Kline(_Payload):
    event: Literal["kline"] = msgspec.field(name="e")
    event_time: EpochMillis = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    kline: _KlineBody = msgspec.field(name="k")

    def explain(self) -> None:
        _check_symbol(self.symbol)
        self.kline.explain()

    def to_record(self, receive_time: int) -> Candle:
        k = self.kline
        return Candle(
            exchange=EXCHANGE,
            symbol=self.symbol,
            interval=k.interval,
            open_time=k.open_time,
            close_time=k.close_time,
            open=k.open,
            high=k.high,
            low=k.low,
            close=k.close,
            volume=k.volume,
            quote_volume=k.quote_volume,
            trades=k.trades,
            taker_buy_volume=k.taker_buy_volume,
            taker_buy_quote_volume=k.taker_buy_quote_volume,
            closed=k.closed,
            event_time=self.event_time,
            receive_time=receive_time,
        )


class _MiniTicker(_Payload):
    event: Literal["24hrMiniTicker"] = msgspec.field(name="e")
    event_time: EpochMillis = msgspec.field(name="E")
    symbol: str = msgspec.field(name="s")
    last: str = msgspec.field(name="c")
    open: str = msgspec.field(name="o")
    high: str = msgspec.field(name="h")
    low: str = msgspec.field(name="l")
    volume: str = msgspec.field(name="v")
    quote_volume: str = msgspec.field(name="q")

    def explain(self) -> None:
        _check_symbol(self.symbol)
        _check_decimals(
            c=self.last,
            o=self.open,
            h=self.high,
            l=self.low,
            v=self.volume,
            q=self.quote_volume,
        )

    def to_record(self, receive_time: int) -> Ticker:
        return Ticker(
            exchange=EXCHANGE,
            symbol=self.symbol,
            open=self.open,
            high=self.high,
            low=self.low,
            last=self.last,
            volume=self.volume,
            quote_volume=self.quote_volume,
            event_time=self.event_time,
            receive_time=receive_time,
        )


class _KlineRow(msgspec.Struct, array_like=True):
    """One row of the REST ``klines`` endpoint (a JSON array, not an object)."""

    open_time: EpochMillis
    open: str
    high: str
    low: str
    close: str
    volume: str
    close_time: EpochMillis
    quote_volume: str
    trades: _Count
    taker_buy_volume: str
    taker_buy_quote_volume: str
    ignore: Any = None

    def __post_init__(self) -> None:
        _check_decimals(
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
            quote_volume=self.quote_volume,
            taker_buy_volume=self.taker_buy_volume,
            taker_buy_quote_volume=self.taker_buy_quote_volume,
        )

    def to_candle(self, symbol: str, interval: str, receive_time: int) -> Candle:
        # A row carries no event time: a closed kline is as of its close, an open one (the
        # current interval) as of when it was received.
        closed = self.close_time < receive_time
        return Candle(
            exchange=EXCHANGE,
            symbol=symbol,
            interval=interval,
            open_time=self.open_time,
            close_time=self.close_time,
            open=self.open,
            high=self.high,
            low=self.low,
            close=self.close,
            volume=self.volume,
            quote_volume=self.quote_volume,
            trades=self.trades,
            taker_buy_volume=self.taker_buy_volume,
            taker_buy_quote_volume=self.taker_buy_quote_volume,
            closed=closed,
            event_time=self.close_time if closed else receive_time,
            receive_time=receive_time,
        )


class _DepthSnapshot(msgspec.Struct):
    """A REST depth response; its levels are checked and decoded by :func:`_levels`."""

    last_update_id: ExchangeId = msgspec.field(name="lastUpdateId")
    bids: msgspec.Raw
    asks: msgspec.Raw


class _Envelope(msgspec.Struct):
    """A combined-stream frame: the payload is left undecoded until its kind is known."""

    stream: str
    data: msgspec.Raw


# Level arrays are the bulk of depth payloads. One byte-level regex vouches for a compact array
# of decimal pairs (what Binance sends), which then decodes as plain strings; anything else goes
# through the validating decoder, which accepts it or names the offending element.
_DECIMAL = b'"' + DECIMAL_PATTERN.encode() + b'"'
_LEVEL = rb"\[" + _DECIMAL + rb"," + _DECIMAL + rb"\]"
_COMPACT_LEVELS = re.compile(rb"\[(?:" + _LEVEL + rb"(?:," + _LEVEL + rb")*)?\]")
_PLAIN_LEVELS = msgspec.json.Decoder(list[tuple[str, str]])


def _levels(raw: msgspec.Raw, name: str) -> list[Level]:
    """Decode the level array ``raw`` of the field ``name``, checking its decimal texts."""
    if _COMPACT_LEVELS.fullmatch(raw) is not None:
        return _PLAIN_LEVELS.decode(raw)
    try:
        levels = _PLAIN_LEVELS.decode(raw)
    except msgspec.ValidationError as exc:
        raise msgspec.ValidationError(f"{exc} in `{name}`") from None
    for index, level in enumerate(levels):
        for side, text in enumerate(level):
            if _DECIMAL_TEXT.fullmatch(text) is None:
                raise msgspec.ValidationError(
                    f"{text!r} is not decimal text - at `$[{index}][{side}]` in `{name}`"
                )
    return levels


class _Kind:
    """How the payloads of one stream kind decode: alone, or as whole combined frames in one
    pass (the frame's ``data`` decoded straight into the payload type)."""

    def __init__(self, payload_type: type[_Payload]) -> None:
        frame_type = msgspec.defstruct(
            f"{payload_type.__name__}Frame", [("stream", str), ("data", payload_type)]
        )
        self.payload: Callable[[bytes | str], _Payload] = msgspec.json.Decoder(payload_type).decode
        self.frame: Callable[[bytes], Any] = msgspec.json.Decoder(frame_type).decode


def _to_record(payload: _Payload, receive_time: int) -> StreamRecord:
    try:
        return payload.to_record(receive_time)
    except ValueError:
        payload.explain()  # raises naming the Binance field, if the contract refused a text
        raise


_DEPTH = _Kind(_DepthUpdate)
_KLINE = _Kind(_Kline)
_BY_KIND: dict[str, _Kind] = {
    "depth": _DEPTH,
    "depth@100ms": _DEPTH,
    "depth@1000ms": _DEPTH,
    "bookTicker": _Kind(_BookTicker),
    "aggTrade": _Kind(_AggTrade),
    "miniTicker": _Kind(_MiniTicker),
}
_ENVELOPE = msgspec.json.Decoder(_Envelope)
_KLINE_ROWS = msgspec.json.Decoder(list[_KlineRow])
_AGG_TRADE_ROWS = msgspec.json.Decoder(list[_AggTradeRow])
_DEPTH_SNAPSHOT = msgspec.json.Decoder(_DepthSnapshot)


def _kind_of(stream: str) -> _Kind:
    kind = stream.partition("@")[2]
    found = _BY_KIND.get(kind)
    if found is not None:
        return found
    if kind.startswith("kline_"):
        return _KLINE
    raise UnsupportedStreamError(f"unsupported stream {stream!r}")


# Combined frames start with their stream name (Binance writes ``stream`` first): the name, cut
# from the bytes, picks the kind, and the frame decodes in one pass. Anything else, and any
# frame that fails there, takes the general path, which names what is wrong.
_FRAME_START = b'{"stream":"'
_NAME_AT = len(_FRAME_START)
_MAX_KNOWN_STREAMS = 16_384
_known_streams: dict[bytes, tuple[str, _Kind]] = {}


def decode_frame(frame: bytes | str, receive_time: int) -> StreamRecord:
    """Normalize a combined-stream frame ``{"stream": ..., "data": {...}}``.

    The stream name picks the payload's decoder. ``receive_time`` is epoch milliseconds.
    """
    payload = _decode_known(frame)
    if payload is not None:
        try:
            return payload.to_record(receive_time)
        except ValueError:
            pass  # the general path below says what is wrong
    return _decode_envelope(frame, receive_time)


def decode_live_frame(frame: bytes | str, receive_time: int) -> LiveRecord:
    """:func:`decode_frame` for a loader, which publishes what it decodes: an aggregate trade
    comes out as an :class:`EncodedTrade`, formatted without building a Trade (about half the
    cost of decoding and encoding one), or by the compiled extension where it is installed
    (about a third of that again)."""
    if NATIVE is not None and isinstance(frame, bytes):
        trade = NATIVE.decode_agg_trade_frame(frame, _LIVE_TEMPLATE, receive_time)
        if trade is not None:
            return EncodedTrade(*trade)
    payload = _decode_known(frame)
    if payload is not None:
        try:
            return payload.to_live(receive_time)
        except ValueError:
            pass  # the general path below says what is wrong
    return _live(_decode_envelope(frame, receive_time))


def _live(record: StreamRecord) -> LiveRecord:
    return EncodedTrade.of(record) if isinstance(record, Trade) else record


def _decode_known(frame: bytes | str) -> _Payload | None:
    """The payload of a combined frame of a supported stream, decoded in one pass; None for
    anything else (including a frame that fails there)."""
    if not (isinstance(frame, bytes) and frame.startswith(_FRAME_START)):
        return None
    name = frame[_NAME_AT : frame.find(b'"', _NAME_AT)]
    known = _known_streams.get(name) or _learn_stream(name)
    if known is None:
        return None
    stream, kind = known
    try:
        decoded = kind.frame(frame)
    except ValueError:
        return None
    payload: _Payload = decoded.data
    return payload if decoded.stream == stream else None


def _decode_envelope(frame: bytes | str, receive_time: int) -> StreamRecord:
    """The general path: the envelope, then its payload; errors say what is wrong."""
    try:
        envelope = _ENVELOPE.decode(frame)
    except msgspec.DecodeError as exc:
        raise FrameError(f"not a combined-stream frame: {exc}") from None
    return decode_stream_payload(envelope.stream, envelope.data, receive_time)


def _learn_stream(name: bytes) -> tuple[str, _Kind] | None:
    """The stream named ``name`` and its kind, remembered; None for names not supported."""
    try:
        stream = name.decode()
        known = (stream, _kind_of(stream))
    except (UnicodeDecodeError, UnsupportedStreamError):
        return None
    if len(_known_streams) >= _MAX_KNOWN_STREAMS:
        _known_streams.clear()
    _known_streams[name] = known
    return known


def decode_stream_payload(stream: str, payload: bytes | str, receive_time: int) -> StreamRecord:
    """Normalize the payload of ``stream`` (a ``/ws/<stream>`` frame or a combined frame's data)."""
    kind = _kind_of(stream)
    try:
        return _to_record(kind.payload(payload), receive_time)
    except ValueError as exc:
        raise FrameError(f"invalid payload on stream {stream!r}: {exc}") from None


def decode_klines(body: bytes | str, symbol: str, interval: str, receive_time: int) -> list[Candle]:
    """Normalize a REST ``/api/v3/klines`` response for ``symbol`` and ``interval``."""
    _check_symbol(symbol)  # REST responses do not name it: the caller does
    try:
        rows = _KLINE_ROWS.decode(body)
    except msgspec.DecodeError as exc:
        raise FrameError(f"invalid klines response for {symbol}: {exc}") from None
    return [row.to_candle(symbol, interval, receive_time) for row in rows]


def decode_agg_trades(body: bytes | str, symbol: str, receive_time: int) -> list[Trade]:
    """Normalize a REST ``/api/v3/aggTrades`` response; the trade time is the event time."""
    _check_symbol(symbol)  # REST responses do not name it: the caller does
    try:
        rows = _AGG_TRADE_ROWS.decode(body)
    except msgspec.DecodeError as exc:
        raise FrameError(f"invalid aggTrades response for {symbol}: {exc}") from None
    return [row.to_trade(symbol, row.trade_time, receive_time) for row in rows]


def decode_depth_snapshot(body: bytes | str, symbol: str, receive_time: int) -> BookSnapshot:
    """Normalize a REST ``/api/v3/depth`` response; ``depth`` is its deeper side's level count."""
    _check_symbol(symbol)  # REST responses do not name it: the caller does
    try:
        snapshot = _DEPTH_SNAPSHOT.decode(body)
        bids = _levels(snapshot.bids, "bids")
        asks = _levels(snapshot.asks, "asks")
    except msgspec.DecodeError as exc:
        raise FrameError(f"invalid depth snapshot for {symbol}: {exc}") from None
    return BookSnapshot(
        exchange=EXCHANGE,
        symbol=symbol,
        last_update_id=snapshot.last_update_id,
        depth=max(len(bids), len(asks)),
        bids=bids,
        asks=asks,
        timestamp=receive_time,
    )


def live_trade_template() -> tuple[list[bytes], list[int]]:
    """What :func:`decode_live_frame` writes for an aggTrade frame, as a template for the
    compiled extension (see :func:`~streamforge.exchanges.binance.trade_json.template_of`)."""
    fields = sentinels()
    payload = _AggTrade(
        **{field: value for field, value in fields.items() if field != "receive_time"},
        event="aggTrade",
    )
    return template_of(payload.trade_json(fields["receive_time"]), frozenset(TEMPLATE_SLOTS))


_LIVE_TEMPLATE: Any = None if NATIVE is None else NATIVE.TradeTemplate(*live_trade_template())

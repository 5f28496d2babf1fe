"""Every wire contract round-trips exactly and rejects invalid input naming the field."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamforge.schemas import (
    BBO,
    AnyMarketRecord,
    BookSnapshot,
    Candle,
    Codec,
    Command,
    CommandName,
    ContractError,
    DepthDiff,
    Event,
    EventName,
    Ticker,
    Trade,
    encode,
)
from streamforge.schemas import market as market_module
from streamforge.schemas.market import MarketRecord, unchecked

decimals = st.from_regex(r"\A[0-9]{1,12}(\.[0-9]{1,8})?\Z")
symbols = st.from_regex(r"\A[A-Z0-9]{2,12}\Z")
exchanges = st.sampled_from(["binance", "bybit", "okx_spot"])
millis = st.integers(min_value=0, max_value=2**53)
ids = st.integers(min_value=0, max_value=2**62)
levels = st.lists(st.tuples(decimals, decimals), max_size=20)


def market(cls: type[Any], **fields: Any) -> st.SearchStrategy[Any]:
    return st.builds(cls, exchange=exchanges, symbol=symbols, **fields)


CONTRACT_STRATEGIES: dict[type[Any], st.SearchStrategy[Any]] = {
    Trade: market(
        Trade,
        trade_id=ids,
        price=decimals,
        qty=decimals,
        first_trade_id=ids,
        last_trade_id=ids,
        trade_time=millis,
        buyer_is_maker=st.booleans(),
        event_time=millis,
        receive_time=millis,
    ),
    Candle: market(
        Candle,
        interval=st.sampled_from(["1m", "5m", "1h", "1d"]),
        open_time=millis,
        close_time=millis,
        open=decimals,
        high=decimals,
        low=decimals,
        close=decimals,
        volume=decimals,
        quote_volume=decimals,
        trades=st.integers(min_value=0, max_value=10**9),
        taker_buy_volume=decimals,
        taker_buy_quote_volume=decimals,
        closed=st.booleans(),
        event_time=millis,
        receive_time=millis,
    ),
    DepthDiff: market(
        DepthDiff,
        first_update_id=ids,
        final_update_id=ids,
        bids=levels,
        asks=levels,
        event_time=millis,
        receive_time=millis,
    ),
    BBO: market(
        BBO,
        update_id=ids,
        bid=decimals,
        bid_qty=decimals,
        ask=decimals,
        ask_qty=decimals,
        event_time=millis,
        receive_time=millis,
    ),
    BookSnapshot: market(
        BookSnapshot,
        last_update_id=ids,
        depth=st.integers(min_value=1, max_value=5000),
        bids=levels,
        asks=levels,
        timestamp=millis,
    ),
    Ticker: market(
        Ticker,
        open=decimals,
        high=decimals,
        low=decimals,
        last=decimals,
        volume=decimals,
        quote_volume=decimals,
        event_time=millis,
        receive_time=millis,
    ),
}

commands = st.builds(
    Command.new,
    st.sampled_from(list(CommandName)),
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,40}\Z"),
    target=st.sampled_from(["*", "dummy-service", "loader-ws"]),
    payload=st.dictionaries(st.text(max_size=10), st.integers() | st.text(max_size=10)),
    issued_by=st.sampled_from(["cli", "console", "api"]),
)
events = st.builds(
    Event.new,
    st.sampled_from(list(EventName)),
    st.from_regex(r"\A[A-Za-z0-9][A-Za-z0-9_.\-]{0,40}\Z"),
    st.just("dummy-service__host-1"),
    st.dictionaries(st.text(max_size=10), st.floats(0, 1) | st.integers(0, 10**6)),
)


@pytest.mark.parametrize("contract", list(CONTRACT_STRATEGIES), ids=lambda c: c.__name__)
def test_market_records_round_trip_exactly(contract: type[Any]) -> None:
    @given(CONTRACT_STRATEGIES[contract])
    def check(record: Any) -> None:
        wire = encode(record)
        assert Codec(contract).decode(wire) == record
        assert Codec(AnyMarketRecord).decode(wire) == record  # the tag picks the type

    check()


@pytest.mark.parametrize("contract", list(CONTRACT_STRATEGIES), ids=lambda c: c.__name__)
def test_an_unchecked_twin_encodes_exactly_as_its_record(contract: type[Any]) -> None:
    twin = unchecked(contract)

    @given(CONTRACT_STRATEGIES[contract])
    def check(record: Any) -> None:
        assert encode(twin(**msgspec.structs.asdict(record))) == encode(record)

    check()
    assert unchecked(contract) is twin  # built once a type


def test_an_unchecked_twin_checks_nothing() -> None:
    fields = msgspec.structs.asdict(_trade())
    fields.update(exchange="Not An Exchange", price="x")
    twin = unchecked(Trade)(**fields)

    assert b'"exchange":"Not An Exchange"' in encode(twin)
    with pytest.raises(ValueError, match="`exchange` must match"):
        Trade(**fields)


@pytest.mark.parametrize(
    ("texts", "passes"),
    [
        (("binance", "BTCUSDT", "64000.10", "0.5"), True),
        (("binance", "BTCUSDT", "64000.10", "0.5."), False),
        (("binance", "BTCUSDT", "1\x1f2", "3"), False),
        (("binance", "btcusdt", "64000.10", "0.5"), False),
        (("Binance", "BTCUSDT", "64000.10", "0.5"), False),
    ],
)
def test_texts_pass_as_the_record_would_check_them(texts: tuple[str, ...], passes: bool) -> None:
    exchange, symbol, price, qty = texts
    assert Trade.texts_pass(texts) is passes
    built = _outcome(lambda: _trade(exchange=exchange, symbol=symbol, price=price, qty=qty))
    assert isinstance(built, Trade) is passes


def _outcome(build: Any) -> Any:
    try:
        return build()
    except ValueError as exc:
        return exc


def test_valid_series_are_the_texts_a_record_accepts() -> None:
    assert market_module.valid_series("binance", "BTCUSDT")
    assert not market_module.valid_series("binance", "btcusdt")
    assert not market_module.valid_series("Binance", "BTCUSDT")


@given(commands)
def test_commands_round_trip(command: Command) -> None:
    assert Codec(Command).decode(encode(command)) == command


@given(events)
def test_events_round_trip(event: Event) -> None:
    assert Codec(Event).decode(encode(event)) == event


def test_prices_keep_the_exchange_text_exactly() -> None:
    trade: Trade = Codec(Trade).decode(encode(_trade(price="0.00012300", qty="100.00000000")))
    assert (trade.price, trade.qty) == ("0.00012300", "100.00000000")
    assert b'"price":"0.00012300"' in encode(trade)


def _trade(**overrides: Any) -> Trade:
    fields: dict[str, Any] = {
        "exchange": "binance",
        "symbol": "BTCUSDT",
        "trade_id": 7,
        "price": "64000.10",
        "qty": "0.5",
        "first_trade_id": 10,
        "last_trade_id": 12,
        "trade_time": 1_700_000_000_000,
        "buyer_is_maker": False,
        "event_time": 1_700_000_000_001,
        "receive_time": 1_700_000_000_002,
    }
    return Trade(**{**fields, **overrides})


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"price": "1e5"}, "price"),
        ({"price": "-1.0"}, "price"),
        ({"qty": "NaN"}, "qty"),
        ({"symbol": "btcusdt"}, "symbol"),
        ({"exchange": "Binance"}, "exchange"),
        ({"trade_id": -1}, "trade_id"),
        ({"trade_id": "7"}, "trade_id"),
        ({"buyer_is_maker": "yes"}, "buyer_is_maker"),
        ({"surprise": 1}, "surprise"),
        ({"v": 2}, "v"),
    ],
)
def test_invalid_trade_is_rejected_naming_the_field(change: dict[str, Any], field: str) -> None:
    raw = msgspec.json.decode(encode(_trade()))
    raw.update(change)
    with pytest.raises(ContractError, match=field):
        Codec(Trade).decode(msgspec.json.encode(raw))


def test_missing_field_is_named() -> None:
    raw = msgspec.json.decode(encode(_trade()))
    del raw["qty"]
    with pytest.raises(ContractError, match="qty"):
        Codec(Trade).decode(msgspec.json.encode(raw))


def test_record_of_another_type_is_rejected() -> None:
    with pytest.raises(ContractError, match="type"):
        Codec(Candle).decode(encode(_trade()))


def test_garbage_is_rejected_with_the_contract_name() -> None:
    with pytest.raises(ContractError, match="invalid Trade: JSON is malformed"):
        Codec(Trade).decode(b"\x00\xffnot json")


@pytest.mark.parametrize(
    ("field", "value"),
    [("command", "explode"), ("queue_id", "has space"), ("target", "Bad Target")],
)
def test_invalid_command_names_the_field(field: str, value: str) -> None:
    raw = msgspec.json.decode(encode(Command.new("ping", "q1")))
    raw[field] = value
    with pytest.raises(ContractError, match=field):
        Codec(Command).decode(msgspec.json.encode(raw))


def test_command_addressing() -> None:
    broadcast = Command.new("ping", "*")
    aimed = Command.new("stop", "q1", target="loader-ws")
    assert broadcast.addresses("q1", "dummy-service")
    assert aimed.addresses("q1", "loader-ws")
    assert not aimed.addresses("q1", "dummy-service")
    assert not aimed.addresses("q2", "loader-ws")


def test_market_record_key_and_natural_keys() -> None:
    trade = _trade()
    assert trade.key == "binance:BTCUSDT"
    assert trade.natural_key == "binance|BTCUSDT|7"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"symbol": "BTCUSDT\x1f1"}, "symbol"),
        ({"exchange": "binance\x1fBTCUSDT"}, "exchange"),
        ({"price": "1\x1f2"}, "price"),
        ({"qty": 5}, "qty"),
        ({"symbol": ["BTCUSDT"]}, "symbol"),
    ],
)
def test_a_separator_or_a_non_text_is_named_in_any_text_field(
    change: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValueError, match=f"`{field}` must match"):
        _trade(**change)


class _OneDecimal(MarketRecord, frozen=True, tag="one-decimal"):
    _decimals = ("price",)

    price: str


def test_a_record_with_one_decimal_checks_it_whole() -> None:
    assert _OneDecimal(exchange="binance", symbol="BTCUSDT", price="64000.5").price == "64000.5"
    with pytest.raises(ValueError, match="`price` must match"):
        _OneDecimal(exchange="binance", symbol="BTCUSDT", price="6.4.1")

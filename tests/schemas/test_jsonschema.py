"""The exported JSON Schemas describe the wire format other languages will validate."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from streamforge.schemas import Command, Event, EventName, Trade, encode
from streamforge.schemas.jsonschema import CONTRACTS, export_schemas

EXPECTED_FILES = {
    "command.schema.json",
    "event.schema.json",
    "trade.schema.json",
    "candle.schema.json",
    "depth.schema.json",
    "bbo.schema.json",
    "book.schema.json",
    "ticker.schema.json",
}


def test_export_writes_one_valid_schema_per_contract(tmp_path: Path) -> None:
    paths = export_schemas(tmp_path / "out")
    assert {p.name for p in paths} == EXPECTED_FILES
    for path in paths:
        schema = json.loads(path.read_text())
        jsonschema.Draft202012Validator.check_schema(schema)


@pytest.fixture(scope="module")
def schemas(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, object]]:
    out = tmp_path_factory.mktemp("schemas")
    export_schemas(out)
    return {name: json.loads((out / f"{name}.schema.json").read_text()) for name in CONTRACTS}


def test_encoded_records_validate_against_their_schema(
    schemas: dict[str, dict[str, object]],
) -> None:
    trade = Trade(
        exchange="binance",
        symbol="ETHUSDT",
        trade_id=1,
        price="3000.01",
        qty="1.5",
        first_trade_id=1,
        last_trade_id=1,
        trade_time=1,
        buyer_is_maker=True,
        event_time=1,
        receive_time=1,
    )
    jsonschema.validate(json.loads(encode(trade)), schemas["trade"])
    jsonschema.validate(json.loads(encode(Command.new("ping", "q1"))), schemas["command"])
    event = Event.new(EventName.PONG, "q1", "svc__1", {"state": "running"})
    jsonschema.validate(json.loads(encode(event)), schemas["event"])


def test_schema_rejects_a_float_price(schemas: dict[str, dict[str, object]]) -> None:
    record = {"type": "trade", "exchange": "binance", "symbol": "ETHUSDT", "price": 3000.01}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(record, schemas["trade"])

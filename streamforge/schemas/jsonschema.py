"""JSON Schema documents of the wire contracts, for consumers in other languages."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import msgspec

from streamforge.schemas.control import Command, Event
from streamforge.schemas.market import BBO, BookSnapshot, Candle, DepthDiff, Ticker, Trade

#: Schema file stem -> contract.
CONTRACTS: dict[str, type[msgspec.Struct]] = {
    "command": Command,
    "event": Event,
    "trade": Trade,
    "candle": Candle,
    "depth": DepthDiff,
    "bbo": BBO,
    "book": BookSnapshot,
    "ticker": Ticker,
}


def contract_schema(name: str) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one contract, self-contained."""
    contract = CONTRACTS[name]
    schema: dict[str, Any] = msgspec.json.schema(contract)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": f"urn:streamforge:schema:{name}:v1",
        "title": contract.__name__,
        **schema,
    }


def export_schemas(out_dir: str | Path) -> list[Path]:
    """Write ``<name>.schema.json`` for every contract into ``out_dir``; return the paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in CONTRACTS:
        path = out / f"{name}.schema.json"
        path.write_text(json.dumps(contract_schema(name), indent=2, sort_keys=True) + "\n")
        written.append(path)
    return written

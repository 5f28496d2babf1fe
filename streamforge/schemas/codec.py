"""JSON encoding and strict decoding of the wire contracts, tuned for hot paths."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import msgspec

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


class ContractError(ValueError):
    """A record that does not satisfy its contract; the message names the offending field."""

    def __init__(self, contract: str, detail: str) -> None:
        super().__init__(f"invalid {contract}: {detail}")
        self.contract = contract
        self.detail = detail


def encode(value: Any) -> bytes:
    """Encode a contract (or any msgspec-encodable value) as compact JSON bytes."""
    return _encoder.encode(value)


class Codec(Generic[T]):
    """A reusable strict decoder for one contract type (or a tagged union of them)."""

    def __init__(self, type_: Any, name: str | None = None) -> None:
        self.type = type_
        self.name = name or getattr(type_, "__name__", str(type_))
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(type_)

    def decode(self, data: bytes | str) -> T:
        """Decode one JSON document; raise :class:`ContractError` naming the field on failure."""
        try:
            return self._decoder.decode(data)
        except msgspec.DecodeError as exc:
            raise ContractError(self.name, str(exc)) from None

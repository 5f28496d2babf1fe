"""JSON encoding and strict decoding of the wire contracts, tuned for hot paths."""

from __future__ import annotations

from typing import Any, Generic, Protocol, TypeVar

import msgspec

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)

_encoder = msgspec.json.Encoder()


class ContractError(ValueError):
    """A record that does not satisfy its contract; the message names the offending field."""

    def __init__(self, contract: str, detail: str) -> None:
        super().__init__(f"invalid {contract}: {detail}")
        self.contract = contract
        self.detail = detail


def error_field(message: str) -> str:
    """The field a msgspec validation message points at (``... - at `$.payload.symbol` ``
    gives ``payload.symbol``), or ``command`` when it names none."""
    marker = "at `$."
    if marker in message:
        return message.split(marker, 1)[1].split("`", 1)[0]
    return "command"


def encode(value: Any) -> bytes:
    """Encode a contract (or any msgspec-encodable value) as compact JSON bytes."""
    return _encoder.encode(value)


class Codec(Generic[T]):
    """A reusable strict decoder for one contract type (or a tagged union of them)."""

    def __init__(self, type_: Any, name: str | None = None) -> None:
        self.type = type_
        self.name: str = name or getattr(type_, "__name__", None) or str(type_)
        self._decoder: msgspec.json.Decoder[T] = msgspec.json.Decoder(type_)

    def decode(self, data: bytes | str) -> T:
        """Decode one JSON document; raise :class:`ContractError` naming the field on failure."""
        try:
            return self._decoder.decode(data)
        except msgspec.DecodeError as exc:
            raise ContractError(self.name, str(exc)) from None


class Decoder(Protocol[T_co]):
    """Anything that turns a record's bytes into a value, raising :class:`ContractError`."""

    def decode(self, data: bytes) -> T_co:
        """Decode one record value."""
        ...


class RawCodec:
    """The identity decoder, for consumers that handle raw bytes (dead letters, mirrors)."""

    name = "bytes"

    def decode(self, data: bytes) -> bytes:
        """Return ``data`` unchanged."""
        return data

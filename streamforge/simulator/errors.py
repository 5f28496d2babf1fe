"""Binance's REST error answers: ``{"code": -1121, "msg": "Invalid symbol."}``."""

from __future__ import annotations

import orjson
from aiohttp import web


class BinanceError(Exception):
    """An error answer; raised by handlers and rendered by the server's middleware."""

    def __init__(self, code: int, msg: str, status: int = 400) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.status = status

    def response(self) -> web.Response:
        """The HTTP response Binance sends for this error."""
        return json_response({"code": self.code, "msg": self.msg}, status=self.status)


def json_response(payload: object, status: int = 200) -> web.Response:
    """A JSON response rendered by orjson."""
    return web.Response(body=orjson.dumps(payload), status=status, content_type="application/json")


def missing(name: str) -> BinanceError:
    """The error for a mandatory parameter that was not sent."""
    return BinanceError(
        -1102, f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed."
    )


def illegal(name: str) -> BinanceError:
    """The error for a numeric parameter that is not a number."""
    return BinanceError(
        -1100, f"Illegal characters found in parameter '{name}'; legal range is '^[0-9]{{1,20}}$'."
    )


def invalid_symbol() -> BinanceError:
    """The error for a symbol the exchange does not list."""
    return BinanceError(-1121, "Invalid symbol.")


def invalid_limit() -> BinanceError:
    """The error for a ``limit`` outside what the endpoint accepts."""
    return BinanceError(-1130, "Data sent for parameter 'limit' is not valid.")

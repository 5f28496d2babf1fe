"""What the ArangoDB store does without a server: reading URLs, mapping keys, failing fast."""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

from streamforge.storage import StoreError, open_store
from streamforge.storage.arango import ArangoTarget, document_key, natural_key, set_collection
from streamforge.storage.tables import CANDLES, TRADES
from tests.storage.records import candle, trade


def parse(url: str) -> ArangoTarget:
    return ArangoTarget.parse(url, "<masked>")


def test_a_full_url_names_host_database_and_credentials() -> None:
    target = parse("arango://sf:p%40ss@db.internal:8530/market")

    assert target.hosts == "http://db.internal:8530"
    assert target.database == "market"
    assert (target.username, target.password) == ("sf", "p@ss")
    assert target.verify is True
    assert "p@ss" not in repr(target)


def test_defaults_are_port_8529_database_streamforge_and_root() -> None:
    target = parse("arango://localhost")

    assert target.hosts == "http://localhost:8529"
    assert (target.database, target.username, target.password) == ("streamforge", "root", "")


def test_arangos_means_tls_with_an_optional_ca_or_no_verification(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")

    assert parse("arangos://h/db").hosts == "https://h:8529"
    assert parse("arangos://h/db").verify is True
    assert parse(f"arangos://h/db?ca={ca}").verify == str(ca)
    assert parse("arangos://h/db?verify=false").verify is False
    assert parse("arangos://[::1]:9000/db").hosts == "https://[::1]:9000"


@pytest.mark.parametrize(
    ("url", "error"),
    [
        ("arango://h/db?verify=false", "only arangos:// takes parameters"),
        ("arangos://h/db?timeout=3", "only arangos:// takes parameters"),
        ("arangos://h/db?verify=maybe", "verify must be true or false"),
        ("arangos://h/db?ca=/no/such/ca.pem", "CA file not found"),
        ("arango://h:99999/db", "bad ArangoDB URL"),
        ("arango:///db", "bad ArangoDB URL"),
        ("arango://h/a/b", "one database name"),
    ],
)
def test_malformed_urls_are_refused_without_the_url_itself(url: str, error: str) -> None:
    with pytest.raises(StoreError, match=error) as caught:
        parse(url)

    assert "<masked>" in str(caught.value)


def test_keys_swap_the_bar_for_a_colon_and_back() -> None:
    assert document_key(TRADES, TRADES.row(trade(42))) == "binance:BTCUSDT:42"
    candle_key = document_key(CANDLES, CANDLES.row(candle(0)))
    assert candle_key == "binance:BTCUSDT:1m:1700000000000"
    assert natural_key(candle_key) == candle(0).natural_key
    assert set_collection("btc_1m", "candle") == "btc_1m-candle"


def test_an_unreachable_server_fails_fast_with_the_password_masked() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    started = time.monotonic()

    with pytest.raises(StoreError) as caught:
        open_store(f"arango://sf:hunter2@127.0.0.1:{port}/market")

    message = str(caught.value)
    assert time.monotonic() - started < 10
    assert f"cannot reach ArangoDB at arango://sf:***@127.0.0.1:{port}/market" in message
    assert "hunter2" not in message
    assert "\n" not in message

"""``streamforge store count``: the stored records of a symbol, as a number or JSON."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from streamforge.cli.main import cli
from streamforge.storage import open_store
from tests.storage.records import MINUTE, T0, candle, trade

URL_ENV = "STREAMFORGE_STORE_URL"


@pytest.fixture
def store_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A SQLite store with 10 BTCUSDT trades and 5 1m candles, named in the environment."""
    url = f"sqlite:///{tmp_path / 'sf.db'}"
    with open_store(url) as store:
        store.upsert([trade(i) for i in range(10)] + [candle(i) for i in range(5)])
    monkeypatch.setenv(URL_ENV, url)
    return url


def count(*args: str) -> Result:
    return CliRunner().invoke(cli, ["store", "count", *args], catch_exceptions=False)


def one_line_error(result: Result, code: int) -> str:
    assert result.exit_code == code, result.output
    lines = result.stderr.strip().splitlines()
    errors = [line for line in lines if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.usefixtures("store_url")
def test_prints_the_number_of_records() -> None:
    assert count("--kind", "trades", "--symbol", "BTCUSDT").output == "10\n"
    assert count("--kind", "candles", "--symbol", "btcusdt", "--interval", "1m").output == "5\n"
    assert count("--kind", "trades", "--symbol", "ETHUSDT").output == "0\n"
    assert count("--kind", "trades", "--symbol", "BTCUSDT", "--exchange", "bybit").output == "0\n"


@pytest.mark.usefixtures("store_url")
def test_from_and_to_take_iso_times_or_epoch_ms() -> None:
    start = "2023-11-14T22:13:20.002Z"  # T0 + 2 ms
    result = count("--kind", "trades", "--symbol", "BTCUSDT", "--from", start, "--to", str(T0 + 5))

    assert result.output == "3\n"


@pytest.mark.usefixtures("store_url")
def test_json_names_the_query_and_the_count() -> None:
    args = ["--kind", "candles", "--symbol", "BTCUSDT", "--interval", "1m", "--json"]
    result = count(*args, "--from", str(T0 + MINUTE))

    assert result.exit_code == 0
    assert json.loads(result.output) == {
        "kind": "candles",
        "symbol": "BTCUSDT",
        "interval": "1m",
        "from": T0 + MINUTE,
        "to": None,
        "count": 4,
    }


@pytest.mark.usefixtures("store_url")
def test_candles_need_an_interval_and_trades_take_none() -> None:
    line = one_line_error(count("--kind", "candles", "--symbol", "BTCUSDT"), 2)
    assert "--interval is required for candles" in line
    line = one_line_error(count("--kind", "trades", "--symbol", "X", "--interval", "1m"), 2)
    assert "--interval applies to candles only" in line


@pytest.mark.usefixtures("store_url")
def test_a_bad_time_is_a_usage_error() -> None:
    line = one_line_error(count("--kind", "trades", "--symbol", "X", "--from", "yesterday"), 2)
    assert "not an ISO date, date-time or epoch ms" in line


def test_a_bad_url_scheme_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(URL_ENV, "mysql://u:hunter2@db/market")

    line = one_line_error(count("--kind", "trades", "--symbol", "BTCUSDT"), 1)

    assert URL_ENV in line
    assert "hunter2" not in line


def test_an_unreachable_store_is_one_line_without_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    monkeypatch.setenv(URL_ENV, f"arango://sf:hunter2@127.0.0.1:{port}/market")

    line = one_line_error(count("--kind", "trades", "--symbol", "BTCUSDT"), 1)

    assert f"cannot reach ArangoDB at arango://sf:***@127.0.0.1:{port}/market" in line
    assert "hunter2" not in line


def test_the_store_command_does_not_load_textual() -> None:
    code = (
        "import sys; from streamforge.cli.store import store; "
        "assert not any(m.split('.')[0] == 'textual' for m in sys.modules), 'textual loaded'"
    )
    subprocess.run([sys.executable, "-c", code], check=True)

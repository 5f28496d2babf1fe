"""Bulk history files: Binance's layout, verified checksums, and the same content as REST."""

from __future__ import annotations

import csv
import hashlib
import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from streamforge.simulator import SimulatorThread
from tests.simulator.reference import agg_trades, klines

DAY_MS = 86_400_000


def day_ms(day: str) -> int:
    return int(datetime.strptime(day, "%Y-%m-%d").replace(tzinfo=UTC).timestamp() * 1000)


@pytest.fixture(scope="module")
def client(sim: SimulatorThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sim.rest_url, timeout=60) as rest:
        yield rest


def download(client: httpx.Client, data_url: str, path: str) -> list[list[str]]:
    """Fetch a zip and its checksum, verify it, and return the CSV rows."""
    archive = client.get(f"{data_url}/{path}")
    assert archive.status_code == 200
    checksum = client.get(f"{data_url}/{path}.CHECKSUM").text
    name = path.rsplit("/", 1)[1]
    assert checksum == f"{hashlib.sha256(archive.content).hexdigest()}  {name}\n"
    with zipfile.ZipFile(io.BytesIO(archive.content)) as bundle:
        (member,) = bundle.namelist()
        assert member == name.removesuffix(".zip") + ".csv"
        text = bundle.read(member).decode()
    return list(csv.reader(io.StringIO(text)))


@pytest.mark.parametrize(
    ("day", "interval", "scale"),
    [("2024-12-31", "1h", 1), ("2025-01-01", "1h", 1000), ("2025-03-10", "1m", 1000)],
)
def test_daily_kline_file_equals_rest(
    client: httpx.Client, sim: SimulatorThread, day: str, interval: str, scale: int
) -> None:
    path = f"spot/daily/klines/BTCUSDT/{interval}/BTCUSDT-{interval}-{day}.zip"
    rows = download(client, sim.data_url, path)
    expected = klines(client, "BTCUSDT", interval, day_ms(day), day_ms(day) + DAY_MS)
    assert len(rows) == len(expected) == DAY_MS // (3_600_000 if interval == "1h" else 60_000)
    for row, kline in zip(rows, expected, strict=True):
        # Microseconds from 2025 on: open * 1000, close time ends in 999999.
        assert int(row[0]) == kline[0] * scale
        assert int(row[6]) == (kline[6] + 1) * scale - 1
        assert row[1:6] + row[7:] == [str(value) for value in kline[1:6] + kline[7:]]


@pytest.mark.parametrize(("day", "scale"), [("2024-06-01", 1), ("2025-03-10", 1000)])
def test_daily_agg_trades_file_equals_rest(
    client: httpx.Client, sim: SimulatorThread, day: str, scale: int
) -> None:
    rows = download(
        client, sim.data_url, f"spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-{day}.zip"
    )
    trades = agg_trades(client, "BTCUSDT", day_ms(day), day_ms(day) + DAY_MS)
    assert len(rows) == len(trades) > 20_000
    for row, trade in zip(rows, trades, strict=True):
        assert row == [
            str(trade["a"]),
            trade["p"],
            trade["q"],
            str(trade["f"]),
            str(trade["l"]),
            str(trade["T"] * scale),
            str(trade["m"]),  # Python-style True / False, as in Binance's files
            "True",
        ]


def test_monthly_kline_file_covers_the_month(client: httpx.Client, sim: SimulatorThread) -> None:
    rows = download(client, sim.data_url, "spot/monthly/klines/ETHUSDT/1d/ETHUSDT-1d-2025-02.zip")
    assert [int(row[0]) // 1000 for row in rows] == [
        day_ms("2025-02-01") + i * DAY_MS for i in range(28)
    ]


def test_the_same_file_is_the_same_bytes(client: httpx.Client, sim: SimulatorThread) -> None:
    url = f"{sim.data_url}/spot/daily/klines/ETHUSDT/4h/ETHUSDT-4h-2025-05-05.zip"
    assert client.get(url).content == client.get(url).content


@pytest.mark.parametrize(
    "path",
    [
        "spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-{today}.zip",  # not complete yet
        "spot/daily/aggTrades/BTCUSDT/BTCUSDT-aggTrades-{today}.zip.CHECKSUM",
        "spot/monthly/klines/BTCUSDT/1m/BTCUSDT-1m-{month}.zip",
        "spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2023-12-31.zip",  # before the market began
        "spot/daily/klines/DOGEUSDT/1m/DOGEUSDT-1m-2025-03-10.zip",  # not listed
        "spot/daily/klines/BTCUSDT/7m/BTCUSDT-7m-2025-03-10.zip",
        "spot/daily/klines/BTCUSDT/1w/BTCUSDT-1w-2025-03-10.zip",  # no daily weekly files
        "spot/daily/klines/BTCUSDT/1m/ETHUSDT-1m-2025-03-10.zip",
        "spot/daily/klines/BTCUSDT/1m/BTCUSDT-1m-2025-02-30.zip",
    ],
)
def test_missing_files_are_404(client: httpx.Client, sim: SimulatorThread, path: str) -> None:
    now = datetime.now(UTC)
    url = (
        f"{sim.data_url}/{path.format(today=now.strftime('%Y-%m-%d'), month=now.strftime('%Y-%m'))}"
    )
    assert client.get(url).status_code == 404

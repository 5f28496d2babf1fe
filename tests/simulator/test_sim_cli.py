"""``streamforge sim`` as a real process: its three printed settings, faults from flags, signals."""

from __future__ import annotations

import re
import signal
import subprocess
import sys

import httpx
import pytest
from click.testing import CliRunner

from streamforge.cli.sim import sim as sim_command
from streamforge.simulator import SimulatorProcess, SimulatorThread

PAST_DAY = {"symbol": "BTCUSDT", "interval": "1h", "startTime": 1_741_564_800_000, "limit": 24}


def test_prints_the_three_settings_and_stops_on_sigint() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "streamforge.cli.sim", "--symbols", "ETHUSDT"],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    lines = [process.stdout.readline().rstrip("\n") for _ in range(3)]
    port = re.fullmatch(r"STREAMFORGE_BINANCE_REST_URL=http://127\.0\.0\.1:(\d+)", lines[0])
    assert port is not None, lines
    assert lines[1:] == [
        f"STREAMFORGE_BINANCE_WS_URL=ws://127.0.0.1:{port[1]}",
        f"STREAMFORGE_BINANCE_DATA_URL=http://127.0.0.1:{port[1]}/data",
    ]
    assert httpx.get(f"http://127.0.0.1:{port[1]}/api/v3/ping").json() == {}
    process.send_signal(signal.SIGINT)
    assert process.wait(20) == 0
    process.stdout.close()


def test_the_market_is_the_same_in_every_process_with_the_same_seed(sim: SimulatorThread) -> None:
    in_process = httpx.get(f"{sim.rest_url}/api/v3/klines", params=PAST_DAY).json()
    with SimulatorProcess("--seed", "7", "--symbols", "BTCUSDT") as same:
        assert httpx.get(f"{same.rest_url}/api/v3/klines", params=PAST_DAY).json() == in_process
    with SimulatorProcess("--seed", "8", "--symbols", "BTCUSDT") as other:
        assert httpx.get(f"{other.rest_url}/api/v3/klines", params=PAST_DAY).json() != in_process


def test_fault_flags_apply_from_the_start() -> None:
    with SimulatorProcess("--symbols", "BTCUSDT", "--rest-error-ratio", "1") as failing:
        assert httpx.get(f"{failing.rest_url}/api/v3/ping").status_code == 503
        faults = httpx.get(f"{failing.rest_url}/_sim/faults").json()
        assert faults["rest_error_ratio"] == 1.0
        assert failing.ws_url.startswith("ws://127.0.0.1:")
        assert failing.data_url == f"{failing.rest_url}/data"
    assert failing.stop() == 0


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (["--rest-error-ratio", "2"], "rest_error_ratio"),
        (["--speed", "0"], "positive factor"),
        (["--speed", "fast"], "positive factor"),
    ],
)
def test_bad_settings_are_refused_before_serving(args: list[str], complaint: str) -> None:
    result = CliRunner().invoke(sim_command, args)
    assert result.exit_code == 2
    assert complaint in result.output

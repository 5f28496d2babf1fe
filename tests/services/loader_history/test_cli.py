"""``streamforge run loader-history``: its options, and one clear line for a bad one."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from streamforge.cli.run_loader_history import loader_history
from streamforge.cli.times import parse_time

GOOD = ["--queue-id", "q", "--symbol", "BTCUSDT", "--from", "2025-01-01"]


def invoke(*args: str) -> Result:
    return CliRunner().invoke(loader_history, list(args), catch_exceptions=False)


def usage_error(result: Result) -> str:
    """A usage error: exit code 2 and exactly one ``Error:`` line."""
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


@pytest.mark.parametrize(
    ("text", "millis"),
    [
        ("2025-01-01", 1_735_689_600_000),
        ("2025-01-01T06:30", 1_735_713_000_000),
        ("2025-01-01T06:30:00Z", 1_735_713_000_000),
        ("2025-01-01T08:30:00+02:00", 1_735_713_000_000),
        ("1735689600000", 1_735_689_600_000),
    ],
)
def test_times_are_utc_iso_dates_or_epoch_milliseconds(text: str, millis: int) -> None:
    assert parse_time(text) == millis


def test_help_lists_the_options() -> None:
    result = invoke("--help")
    assert result.exit_code == 0
    options = (
        "--symbol",
        "--interval",
        "--from",
        "--to",
        "--kinds",
        "--no-bulk",
        "--parse-workers",
    )
    for option in options:
        assert option in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--from", "yesterday"], "Invalid value for '--from': not an ISO date"),
        (["--to", "2025-13-01"], "Invalid value for '--to': not an ISO date"),
        (["--kinds", "klines,book"], "Invalid value for '--kinds': a comma-separated list of"),
        (["--interval", "7m"], "unknown interval '7m'"),
        (["--to", "2024-12-31"], "empty range"),
        (["--kinds", ","], "nothing to load"),
        (["--symbol", "BTC-USDT"], "not an upper-case symbol: 'BTC-USDT'"),
        (["--parse-workers", "-1"], "Invalid value for '--parse-workers'"),
    ],
)
def test_a_bad_option_is_one_usage_error_line(args: list[str], message: str) -> None:
    assert message in usage_error(invoke(*GOOD, *args))

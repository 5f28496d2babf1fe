"""``streamforge run store-connector``: its options, and one clear line for a bad one."""

from __future__ import annotations

import pytest
from click.testing import CliRunner, Result

from streamforge.cli.run import run
from streamforge.cli.run_store_connector import store_connector


def invoke(*args: str) -> Result:
    return CliRunner().invoke(store_connector, ["--queue-id", "q", *args], catch_exceptions=False)


def test_it_is_a_run_sub_command_with_its_options() -> None:
    assert run.get_command(None, "store-connector") is store_connector  # type: ignore[arg-type]
    result = CliRunner().invoke(store_connector, ["--help"])
    assert result.exit_code == 0
    for option in ("--mode", "--topics", "--symbols", "--batch-size", "--batch-wait-ms"):
        assert option in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--topics", "md.trades"], "topics apply to live mode"),
        (["--mode", "live", "--symbols", "btc-usdt"], "Invalid value for '--symbols[0]'"),
        (["--mode", "replay"], "Invalid value for '--mode'"),
        (["--batch-size", "0"], "Invalid value for '--batch-size'"),
    ],
)
def test_bad_options_end_with_one_line(args: list[str], message: str) -> None:
    result = invoke(*args)
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and message in errors[0], result.output

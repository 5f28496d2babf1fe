"""What the console checks before it sends anything: the queue-manager's own rules."""

from __future__ import annotations

import pytest

from streamforge.orchestration.params import parse_time
from streamforge.orchestration.workflows import WorkflowCatalog, WorkflowDef
from tui.validation import Checked, check_params, check_queue_id, check_symbol

CATALOG = WorkflowCatalog.load()


def workflow(name: str) -> WorkflowDef:
    definition = CATALOG.get(name)
    assert definition is not None
    return definition


def test_valid_fields_give_the_canonical_parameters_with_defaults() -> None:
    given = {"symbol": "btcusdt", "from": "2024-08-01", "to": "2024-08-01T02:00"}
    assert check_params(workflow("backfill"), given) == Checked(
        {
            "symbol": "BTCUSDT",
            "interval": "1m",
            "from": parse_time("2024-08-01"),
            "to": parse_time("2024-08-01T02:00"),
        }
    )
    assert check_params(workflow("live"), {"symbols": "ethusdt, btcusdt"}).values == {
        "symbols": ["ETHUSDT", "BTCUSDT"]
    }


def test_every_wrong_field_is_named_at_once() -> None:
    checked = check_params(workflow("backfill"), {"symbol": "BTC/USDT", "interval": "7m"})
    assert checked.values is None
    assert list(checked.errors) == ["symbol", "interval", "from", "to"]
    assert checked.errors["symbol"] == (
        "not a symbol (2-30 letters or digits, e.g. BTCUSDT): 'BTC/USDT'"
    )
    assert checked.errors["interval"].startswith("not a kline interval (1s, 1m, 3m")
    assert checked.errors["from"] == checked.errors["to"] == "required"


def test_the_range_is_checked_once_each_field_is_right() -> None:
    given = {"symbol": "BTCUSDT", "from": "2024-08-02", "to": "2024-08-01"}
    assert check_params(workflow("backfill"), given).errors == {
        "from": "from must be before to (the range is [from, to))"
    }


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("backfill-1", None),
        ("a.b_c-9", None),
        (
            "-leading",
            "letters, digits, '.', '_' and '-' (up to 128), starting with a letter or digit",
        ),
        (
            "has space",
            "letters, digits, '.', '_' and '-' (up to 128), starting with a letter or digit",
        ),
        ("*", "a workflow needs a queue id of its own, not '*'"),
    ],
)
def test_queue_ids(text: str, problem: str | None) -> None:
    assert check_queue_id(text) == problem


def test_a_symbol_to_watch_or_to_stop_watching() -> None:
    watched = ["BTCUSDT"]
    assert check_symbol(" solusdt ", watched, watching=True) == "SOLUSDT"
    assert check_symbol("btcusdt", watched, watching=False) == "BTCUSDT"
    with pytest.raises(ValueError, match="BTCUSDT is watched already"):
        check_symbol("btcusdt", watched, watching=True)
    with pytest.raises(ValueError, match="SOLUSDT is not watched"):
        check_symbol("SOLUSDT", watched, watching=False)
    with pytest.raises(ValueError, match="not a symbol"):
        check_symbol("SOL/USDT", watched, watching=True)

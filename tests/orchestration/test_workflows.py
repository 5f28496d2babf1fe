"""Workflow definitions: the built-in catalog, YAML files, parameter validation and plans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from streamforge.orchestration.params import InvalidParam, parse_time
from streamforge.orchestration.workflows import (
    DefinitionError,
    WorkflowCatalog,
    new_queue_id,
    parse_definitions,
)

SERVICES = {"loader-history", "store-connector", "loader-ws", "dummy-service"}


def test_builtin_catalog_offers_backfill_and_live() -> None:
    catalog = WorkflowCatalog.load(services=SERVICES)

    assert catalog.names() == ["backfill", "live"]


def test_backfill_plan_renders_canonical_parameters_into_service_options() -> None:
    backfill = WorkflowCatalog.load().get("backfill")
    assert backfill is not None

    values = backfill.validate(
        {"symbol": "btcusdt", "interval": "5m", "from": "2024-08-01", "to": "2024-08-31"}
    )
    plan = {step.name: step for step in backfill.plan(values)}

    assert values == {
        "symbol": "BTCUSDT",
        "interval": "5m",
        "from": 1722470400000,
        "to": 1725062400000,
    }
    assert plan["load"].service == "loader-history"
    assert plan["load"].args == [
        "--symbol", "BTCUSDT", "--interval", "5m",
        "--from", "1722470400000", "--to", "1725062400000",
    ]  # fmt: skip
    assert plan["persist"].args == ["--mode", "workflow"]


@pytest.mark.parametrize(
    ("params", "field", "reason"),
    [
        ({"from": "2024-08-01", "to": "2024-08-02"}, "params.symbol", "required"),
        (
            {"symbol": "BTC/USDT", "from": "2024-08-01", "to": "2024-08-02"},
            "params.symbol",
            "not a symbol",
        ),
        (
            {"symbol": "BTCUSDT", "from": "2024-08-02", "to": "2024-08-01"},
            "params.from",
            "from must be before to",
        ),
        (
            {"symbol": "BTCUSDT", "from": "2024-08-01", "to": "2024-08-01"},
            "params.from",
            "from must be before to",
        ),
        (
            {"symbol": "BTCUSDT", "interval": "7m", "from": "2024-08-01", "to": "2024-08-02"},
            "params.interval",
            "not a kline interval",
        ),
        (
            {"symbol": "BTCUSDT", "from": "yesterday", "to": "2024-08-02"},
            "params.from",
            "not an ISO date",
        ),
        (
            {"symbol": "BTCUSDT", "from": "2024-08-01", "to": "2024-08-02", "speed": 3},
            "params.speed",
            "unknown parameter",
        ),
    ],
)
def test_backfill_rejects_bad_parameters_naming_the_field(
    params: dict[str, object], field: str, reason: str
) -> None:
    backfill = WorkflowCatalog.load().get("backfill")
    assert backfill is not None

    with pytest.raises(InvalidParam) as caught:
        backfill.validate(params)

    assert caught.value.field == field
    assert reason in caught.value.reason


def test_times_accept_iso_dates_offsets_and_epoch_millis() -> None:
    assert parse_time("2024-08-01") == 1722470400000
    assert parse_time("2024-08-01T02:00:00+02:00") == 1722470400000
    assert parse_time("1722470400000") == 1722470400000
    assert parse_time(1722470400000) == 1722470400000
    with pytest.raises(ValueError, match="negative"):
        parse_time(-1)


def test_a_file_adds_workflows_and_orders_steps_by_their_needs(tmp_path: Path) -> None:
    path = tmp_path / "flows.yaml"
    path.write_text(
        """
version: 1
workflows:
  chain:
    params:
      seconds: {type: number, default: 2}
    steps:
      last:
        service: dummy-service
        args: {simulate-loading: true, duration: "{seconds}"}
        needs: [first]
      first:
        service: dummy-service
        args: {fail-after: 3, simulate-loading: false}
        deadline_s: 5
        retries: 0
"""
    )
    catalog = WorkflowCatalog.load([path], services=SERVICES)
    chain = catalog.get("chain")
    assert chain is not None

    plan = chain.plan(chain.validate({}))

    assert [step.name for step in plan] == ["first", "last"]
    assert plan[0].args == ["--fail-after", "3"]  # false flags are left out
    assert plan[1].args == ["--simulate-loading", "--duration", "2"]
    assert (plan[0].deadline_s, plan[0].retries) == (5.0, 0)
    assert catalog.names() == ["backfill", "chain", "live"]


@pytest.mark.parametrize(
    ("yaml", "message"),
    [
        ("workflows: {x: {steps: {a: {service: nope}}}}", "unknown service 'nope'"),
        ("workflows: {x: {steps: {a: {service: dummy-service, needs: [b]}}}}", "unknown step"),
        (
            "workflows: {x: {steps: {a: {service: dummy-service, needs: [b]},"
            " b: {service: dummy-service, needs: [a]}}}}",
            "cycle",
        ),
        (
            "workflows: {x: {steps: {a: {service: dummy-service, args: {d: '{nope}'}}}}}",
            "unknown {nope}",
        ),
        ("workflows: {x: {steps: {a: {service: dummy-service, retries: -1}}}}", "retries"),
        ("workflows: {x: {steps: {a: {service: dummy-service, colour: red}}}}", "colour"),
        ("workflows: {x: {steps: {}}}", "has no steps"),
        ("workflows: {x: {range: [a, b], steps: {a: {service: dummy-service}}}}", "range"),
        ("workflows: [", "flows.yaml"),
    ],
)
def test_malformed_definitions_are_refused_saying_where(yaml: str, message: str) -> None:
    with pytest.raises(DefinitionError, match=r"flows\.yaml") as caught:
        parse_definitions(yaml, source="flows.yaml", services=SERVICES)

    assert message in str(caught.value)


def test_retry_backoff_doubles_up_to_a_minute() -> None:
    backfill = WorkflowCatalog.load().get("backfill")
    assert backfill is not None
    step = backfill.plan(
        backfill.validate({"symbol": "BTCUSDT", "from": "2024-08-01", "to": "2024-08-02"})
    )[0]

    assert [step.backoff(n) for n in (1, 2, 3, 10)] == [2.0, 4.0, 8.0, 60.0]


def test_a_new_queue_id_names_the_workflow_and_is_fresh() -> None:
    first, second = new_queue_id("backfill", "BTCUSDT"), new_queue_id("backfill", "BTCUSDT")
    assert first.startswith("backfill-btcusdt-")
    assert first != second
    assert re.fullmatch(r"live-[0-9a-f]{8}", new_queue_id("live"))

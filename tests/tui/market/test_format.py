"""Formatting of market values and the delay log's percentiles."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tui.market import DelayLog, Receipt
from tui.market.format import (
    align_decimals,
    format_change,
    format_compact,
    format_exact,
    sparkline,
    trim_zeros,
)


@pytest.mark.parametrize(
    ("text", "trimmed"),
    [
        ("60012.10000000", "60012.1"),
        ("5.00000000", "5"),
        ("100", "100"),
        ("0.00012300", "0.000123"),
    ],
)
def test_trim_zeros_keeps_the_exact_value(text: str, trimmed: str) -> None:
    assert trim_zeros(text) == trimmed


def test_aligned_decimals_share_the_longest_fraction() -> None:
    assert align_decimals(["64000.10000000", "64000.00000000", "63999.95000000"]) == [
        "64000.10",
        "64000.00",
        "63999.95",
    ]
    assert align_decimals([]) == []
    assert format_exact(Decimal("0.005"), 2) == "0.005"
    assert format_exact(Decimal("64000.5"), 2) == "64000.50"


def test_compact_sizes_and_signed_changes() -> None:
    assert [format_compact(v) for v in (0.01234, 845.12, 15234.1, 2.5e6, 3.4e9)] == [
        "0.01234",
        "845.1",
        "15.23K",
        "2.50M",
        "3.40B",
    ]
    assert format_change(1.234) == "+1.23%"
    assert format_change(-0.5) == "-0.50%"
    assert format_change(None) == "-"


def test_sparkline_scales_the_newest_values_between_their_extremes() -> None:
    assert sparkline([1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0], 8) == "▁▂▃▄▅▆▇█"
    assert sparkline([9.0, 1.0, 5.0], 2) == "▁█"
    assert sparkline([3.0, 3.0], 5) == "▄▄"
    assert sparkline([], 5) == ""
    assert sparkline([1.0], 0) == ""


def test_delay_percentiles_weigh_each_poll_by_its_records() -> None:
    log = DelayLog()
    assert log.percentile(0.99) is None
    log.shown([Receipt(9.990, 90), Receipt(9.950, 9)], now=10.0)
    log.shown([Receipt(19.800, 1)], now=20.0)
    assert log.percentile(0.5) == pytest.approx(0.010)
    assert log.percentile(0.99) == pytest.approx(0.050)
    assert log.percentile(1.0) == pytest.approx(0.200)
    assert log.frames == 2
    assert len(log) == 3
    log.clear()
    assert (len(log), log.frames) == (0, 0)

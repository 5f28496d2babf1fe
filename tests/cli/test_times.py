"""Command-line times: UTC ISO dates and date-times, or epoch milliseconds, to the exact ms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import click
import pytest
from hypothesis import given
from hypothesis import strategies as st

from streamforge.cli.times import parse_time, time_option_callback

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@given(st.integers(min_value=0, max_value=4_102_444_800_000))
def test_an_iso_time_with_milliseconds_is_that_exact_epoch_ms(millis: int) -> None:
    moment = EPOCH + timedelta(milliseconds=millis)

    assert parse_time(moment.isoformat()) == millis
    assert parse_time(moment.replace(tzinfo=None).isoformat(timespec="milliseconds")) == millis
    assert parse_time(str(millis)) == millis


def test_the_callback_turns_bad_text_into_a_bad_parameter() -> None:
    param = click.Option(["--from"])
    ctx = click.Context(click.Command("x"))

    assert time_option_callback(ctx, param, None) is None
    assert time_option_callback(ctx, param, "1970-01-02") == 86_400_000
    with pytest.raises(click.BadParameter, match="not an ISO date"):
        time_option_callback(ctx, param, "soon")

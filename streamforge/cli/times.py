"""Times on the command line: UTC ISO dates or date-times, or epoch milliseconds."""

from __future__ import annotations

import click

from streamforge.orchestration.params import parse_time

__all__ = ["parse_time", "time_option_callback"]


def time_option_callback(
    ctx: click.Context, param: click.Parameter, value: str | None
) -> int | None:
    """Click callback turning an option's text into epoch ms with :func:`parse_time`."""
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None

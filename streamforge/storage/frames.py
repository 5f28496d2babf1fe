"""Stored rows as pandas DataFrames, the same for every backend."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pandas as pd

from streamforge.storage.tables import Table

#: The tz-aware UTC datetime column: ``trade_time`` of a trade, ``open_time`` of a candle.
TIME_COLUMN = "time"


def to_frame(table: Table, rows: Sequence[Sequence[Any]], exact: bool) -> pd.DataFrame:
    """A DataFrame of ``rows`` (values in ``table.columns`` order) with :data:`TIME_COLUMN` first.

    Integers are ``int64``, flags ``bool``, texts ``str``; decimals ``float64``, or their exact
    stored text when ``exact``.
    """
    frame = pd.DataFrame.from_records(rows, columns=list(table.columns))
    frame = frame.astype(table.dtypes(exact))
    frame.insert(0, TIME_COLUMN, pd.to_datetime(frame[table.time], unit="ms", utc=True))
    return frame

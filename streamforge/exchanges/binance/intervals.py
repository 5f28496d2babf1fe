"""Binance kline intervals and the UTC grid their klines open on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

_SECOND = 1000
_MINUTE = 60 * _SECOND
_HOUR = 60 * _MINUTE
_DAY = 24 * _HOUR
#: 1970-01-01 was a Thursday; weekly klines open on Mondays.
_MONDAY = 4 * _DAY


@dataclass(frozen=True, slots=True)
class Interval:
    """A kline width; ``millis`` is 0 for the calendar month."""

    name: str
    millis: int

    def open_time(self, time_ms: int) -> int:
        """Open time of the kline that contains ``time_ms``."""
        if self.name == "1w":
            return time_ms - (time_ms - _MONDAY) % self.millis
        if self.millis:
            return time_ms - time_ms % self.millis
        moment = datetime.fromtimestamp(time_ms / 1000, UTC)
        return _epoch_ms(moment.year, moment.month)

    def next_open(self, open_ms: int) -> int:
        """Open time of the kline after the one opening at ``open_ms``."""
        if self.millis:
            return open_ms + self.millis
        moment = datetime.fromtimestamp(open_ms / 1000, UTC)
        year, month = divmod(moment.year * 12 + moment.month, 12)
        return _epoch_ms(year, month + 1)

    def previous_open(self, open_ms: int) -> int:
        """Open time of the kline before the one opening at ``open_ms``."""
        return self.open_time(open_ms - 1)


def _epoch_ms(year: int, month: int) -> int:
    return int(datetime(year, month, 1, tzinfo=UTC).timestamp() * 1000)


INTERVALS: dict[str, Interval] = {
    interval.name: interval
    for interval in (
        Interval("1s", _SECOND),
        Interval("1m", _MINUTE),
        Interval("3m", 3 * _MINUTE),
        Interval("5m", 5 * _MINUTE),
        Interval("15m", 15 * _MINUTE),
        Interval("30m", 30 * _MINUTE),
        Interval("1h", _HOUR),
        Interval("2h", 2 * _HOUR),
        Interval("4h", 4 * _HOUR),
        Interval("6h", 6 * _HOUR),
        Interval("8h", 8 * _HOUR),
        Interval("12h", 12 * _HOUR),
        Interval("1d", _DAY),
        Interval("1w", 7 * _DAY),
        Interval("1M", 0),
    )
}

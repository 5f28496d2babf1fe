"""The console's small pure helpers: formatting, rates, pending replies, backoff."""

from __future__ import annotations

import pytest
from textual.binding import Binding

from streamforge.schemas import Command, Event, EventName
from tui.feed import Backoff, FeedStatus, LinkState
from tui.format import format_age, format_clock, format_payload, format_percent, format_progress
from tui.rate import RateMeter
from tui.replies import PendingReplies
from tui.screens.help import keys_markdown
from tui.widgets.status import describe_link


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, "-"),
        (-3, "0s"),
        (0.9, "0s"),
        (42, "42s"),
        (65, "1m05s"),
        (3600 + 7 * 60 + 59, "1h07m"),
        (4 * 86400 + 3 * 3600, "4d03h"),
    ],
)
def test_format_age(seconds: float | None, text: str) -> None:
    assert format_age(seconds) == text


def test_percent_and_progress_bar_reach_100_only_when_complete() -> None:
    assert format_percent(None) == "-"
    assert format_percent(0.999) == "99 %"
    assert format_percent(1.0) == "100 %"
    assert format_percent(0.29) == "29 %"
    assert format_progress(None) == "-"
    assert format_progress(0.5, width=4) == "██░░  50 %"
    assert format_progress(1.0, width=4) == "████ 100 %"


def test_clock_and_payload() -> None:
    assert format_clock(1_700_000_000_123) == "22:13:20.123"
    assert format_payload({"progress": 0.5, "message": "x y"}) == "progress=0.5 message=x y"
    assert format_payload({}) == ""


def test_rate_meter_counts_over_a_sliding_window() -> None:
    meter = RateMeter(window_s=2.0)
    assert meter.rate(0.0) == 0.0
    meter.add(10, 100.0)
    meter.add(0, 100.5)
    meter.add(6, 101.0)
    assert meter.rate(101.0) == 8.0
    assert meter.rate(102.5) == 3.0
    assert meter.rate(103.0) == 0.0
    with pytest.raises(ValueError, match="window_s"):
        RateMeter(window_s=0)


def pong(command: Command) -> Event:
    return Event.new(
        EventName.PONG, command.queue_id, "dummy-service__h", {"command_id": command.command_id}
    )


def test_pending_replies_settle_once_by_answer_or_timeout() -> None:
    pending = PendingReplies()
    first, second, third = (Command.new("ping", f"q{i}", issued_by="console") for i in range(3))
    pending.expect(first, deadline=10.0)
    pending.expect(second, deadline=20.0)
    pending.expect(third, deadline=5.0)
    pending.discard(third)
    assert len(pending) == 2

    unrelated = Event.new(EventName.LOADING, "q0", "dummy-service__h", {"progress": 0.1})
    answers = pending.answered([unrelated, pong(first), pong(first)])
    assert [(a.command, a.event.event) for a in answers] == [(first, EventName.PONG)]
    assert pending.expired(15.0) == []
    assert pending.expired(20.0) == [second]
    assert pending.answered([pong(second)]) == []
    assert len(pending) == 0


def test_backoff_doubles_up_to_the_cap_and_resets() -> None:
    backoff = Backoff(initial=0.5, maximum=3.0)
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    backoff.reset()
    assert backoff.next_delay() == 0.5


def test_link_description() -> None:
    assert describe_link(FeedStatus(LinkState.CONNECTED)) == "● broker connected"
    assert "connecting" in describe_link(FeedStatus(LinkState.CONNECTING))
    down = FeedStatus(LinkState.DISCONNECTED, "cannot reach Kafka at h:1", 2.0)
    assert describe_link(down) == "○ broker disconnected: cannot reach Kafka at h:1 (retry in 2 s)"


def test_help_lists_the_footer_bindings() -> None:
    text = keys_markdown(
        [
            Binding("p", "ping", "Ping", tooltip="Ping the selected job's queue"),
            Binding("question_mark", "help", "Help", key_display="?"),
            Binding("ctrl+c", "copy", "Copy", show=False),
        ]
    )
    assert "| `p` | Ping the selected job's queue |" in text
    assert "| `?` | Help |" in text
    assert "ctrl+c" not in text

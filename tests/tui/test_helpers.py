"""The console's small helpers: formatting, rates, answers to commands, backoff, the help."""

from __future__ import annotations

import pytest
from textual.binding import Binding

from streamforge.schemas import Command, Event, EventName
from streamforge.services.loader_ws.service import LoaderWsService
from streamforge.services.queue_manager import QueueManager
from tui.feed import Backoff, FeedStats, FeedStatus, FeedUnavailable, LinkState
from tui.format import format_age, format_clock, format_payload, format_percent, format_progress
from tui.rate import RateMeter
from tui.replies import LOADER_WS, QUEUE_MANAGER, Note, Outcome, PendingReplies, describe
from tui.screens.help import keys_markdown
from tui.widgets.status import describe_feed, describe_link


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


def answer(name: EventName, command: Command, **payload: object) -> Event:
    return Event.new(
        name, command.queue_id, "dummy-service__h", {"command_id": command.command_id, **payload}
    )


async def test_a_command_is_settled_by_its_first_answer() -> None:
    pending = PendingReplies()
    ping = Command.new("ping", "q1", issued_by="console")
    unrelated = Event.new(EventName.LOADING, "q1", "dummy-service__h", {"progress": 0.1})

    async def send(command: Command) -> None:
        assert len(pending) == 1, "waiting before it is sent: an answer may be quick"
        pending.settle(
            [unrelated, answer(EventName.PONG, command), answer(EventName.PONG, command)]
        )

    outcome = await pending.ask(send, ping, wait_s=5)
    assert outcome.answer is not None and outcome.answer.event is EventName.PONG
    assert outcome.accepted
    assert outcome.rejection is None
    assert len(pending) == 0


async def test_a_command_without_an_answer_times_out_and_one_not_sent_says_why() -> None:
    pending = PendingReplies()
    stop = Command.new("stop", "q1", target="queue-manager", issued_by="console")

    async def silence(command: Command) -> None:
        pass

    async def broken(command: Command) -> None:
        raise FeedUnavailable("not connected to Kafka")

    assert await pending.ask(silence, stop, wait_s=0.05) == Outcome(stop, 0.05)
    assert await pending.ask(broken, stop, wait_s=5) == Outcome(
        stop, 5, error="not connected to Kafka"
    )
    assert len(pending) == 0


def test_what_the_operator_is_told_about_a_command() -> None:
    stop = Command.new("stop", "bf-1", target="queue-manager", issued_by="console")
    ping = Command.new("ping", "bf-1", issued_by="console")
    watch = Command.new("subscribe", "*", target="loader-ws", issued_by="console")
    rejected = answer(EventName.REJECTED, stop, field="queue_id", reason="no workflow 'bf-1'")
    accepted = answer(EventName.ACCEPTED, watch, symbols=["BTCUSDT", "SOLUSDT"])
    pong = answer(EventName.PONG, ping, state="running")

    assert describe(Outcome(stop, 10, error="not connected to Kafka")) == Note(
        "stop to bf-1 not sent", "not connected to Kafka", "error"
    )
    assert describe(Outcome(stop, 10)) == Note(
        "stop timed out", "no answer from the queue-manager within 10 s", "warning"
    )
    assert describe(Outcome(ping, 2.5)).message == "no answer from bf-1 within 2.5 s"
    assert describe(Outcome(watch, 1)).message == "no answer from loader-ws within 1 s"
    assert describe(Outcome(stop, 10, rejected)) == Note(
        "stop rejected", "queue_id: no workflow 'bf-1'", "error"
    )
    assert describe(Outcome(watch, 10, accepted)) == Note(
        "subscribe accepted", "* by dummy-service__h, symbols now BTCUSDT, SOLUSDT"
    )
    note = describe(Outcome(ping, 10, pong))
    assert note.title == "pong from bf-1"
    assert note.message.startswith("dummy-service__h: running (after ")


def test_the_console_addresses_the_services_by_their_names() -> None:
    assert QueueManager.name == QUEUE_MANAGER
    assert LoaderWsService.name == LOADER_WS


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


def test_a_feed_in_a_few_words() -> None:
    stats = FeedStats(True, "", 12_345, 3.25, 7, 1_000_000, 1)
    assert describe_feed("events", stats, now_ms=1_004_500) == (
        "events 12,345 · 3.2/s · lag 7 · last 4s ago · 1 reconnect"
    )
    fresh = FeedStats(True, "", 0, 0.0, 0, None, 0)
    assert describe_feed("market", fresh, 0) == (
        "market 0 · 0.0/s · lag 0 · no data yet · 0 reconnects"
    )
    down = FeedStats(False, "cannot reach Kafka at h:1", 5, 0.0, 0, None, 2)
    assert describe_feed("market", down, 0) == "market ○ cannot reach Kafka at h:1"


def test_help_lists_the_footer_bindings() -> None:
    text = keys_markdown(
        [
            Binding("p", "ping", "Ping", tooltip="Ping the selected job's queue"),
            Binding("question_mark", "help", "Help", key_display="?"),
            Binding("n,escape", "answer(False)", "No"),
            Binding("escape", "answer(False)", "No"),
            Binding("ctrl+c", "copy", "Copy", show=False),
        ]
    )
    assert "| `p` | Ping the selected job's queue |" in text
    assert "| `?` | Help |" in text
    assert "ctrl+c" not in text
    assert text.count("| No |") == 1, "one row per action"

"""The start-workflow form: fields checked as they are typed, nothing sent while one is wrong,
then ``start`` sent to the queue-manager and its answer shown.

A replay feed stands in for Kafka and answers the way the queue-manager would; the real
queue-manager answers in ``test_app.py``.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input, Select

from streamforge.orchestration.params import parse_time
from streamforge.schemas import Command, CommandName, Event, EventName
from tests.tui.driving import fill_backfill, note, open_form, status_of, type_into
from tests.tui.story import (
    QM,
    ReplayFeed,
    SnapCompare,
    answer_with,
    console,
    sample_log,
)
from tui.screens import JobsScreen
from tui.widgets import Field, WorkflowsTable

SIZE = (110, 40)
REJECTED = answer_with(
    EventName.REJECTED,
    field="queue_id",
    reason="already used by a succeeded backfill workflow",
)


async def typed_wrong(pilot: Pilot[None]) -> None:
    await pilot.pause()
    await open_form(pilot)
    await fill_backfill(pilot, symbol="BTC/USDT", to="yesterday")
    await pilot.press("enter")
    await pilot.pause()


def test_snapshot_of_the_form_pointing_at_what_is_wrong(snap_compare: SnapCompare) -> None:
    app, _ = console()
    assert snap_compare(app, terminal_size=SIZE, run_before=typed_wrong)


def test_snapshot_of_a_rejection_with_its_field_and_reason(snap_compare: SnapCompare) -> None:
    async def rejected(pilot: Pilot[None]) -> None:
        await pilot.pause()
        await open_form(pilot)
        await fill_backfill(pilot)
        await type_into(pilot, "queue-id", "bf-1")
        await pilot.press("enter")
        await pilot.pause()

    app, _ = console(feed=ReplayFeed(answer=REJECTED))
    assert snap_compare(app, terminal_size=SIZE, run_before=rejected)


async def test_a_field_is_checked_when_left_and_then_as_it_changes() -> None:
    app, _ = console()
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        assert note(form, "param-symbol") == "Exchange symbol, e.g. BTCUSDT", "the help at first"

        await type_into(pilot, "param-symbol", "BTC/")
        assert note(form, "param-symbol") == "Exchange symbol, e.g. BTCUSDT", "still typing"
        await type_into(pilot, "param-from", "2024")
        assert note(form, "param-symbol") == (
            "not a symbol (2-30 letters or digits, e.g. BTCUSDT): 'BTC/'"
        )
        symbol = form.query_one("#param-symbol").query_ancestor(Field)
        assert symbol.has_class("-invalid")

        await pilot.click("#param-symbol")
        await pilot.press("end", "backspace", *"USDT")
        assert note(form, "param-symbol") == "Exchange symbol, e.g. BTCUSDT", "right again"
        assert not symbol.has_class("-invalid")


async def test_nothing_is_sent_while_a_field_is_wrong() -> None:
    app, feed = console()
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        await fill_backfill(pilot, symbol="", to="2024-07-31")
        await pilot.press("enter")
        assert feed.sent == []
        assert status_of(form) == "fix the fields marked in red"
        assert note(form, "param-symbol") == "required"
        assert form.focused is form.query_one("#param-symbol"), "the first wrong field"

        form.query_one("#param-symbol", Input).value = "BTCUSDT"
        await pilot.press("enter")
        assert feed.sent == []
        assert note(form, "param-from") == "from must be before to (the range is [from, to))"


async def test_a_valid_form_sends_start_and_the_accepted_workflow_is_selected() -> None:
    log = sample_log()

    def accept(command: Command) -> list[Event]:
        """Accepted, and the workflow submitted and running (as the queue-manager does)."""
        params = command.payload["params"]
        log.submit(command.queue_id, "backfill", command.command_id, **params)
        return log.events[-3:]

    feed = ReplayFeed(log.events, accept)
    app, _ = console(feed=feed)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await open_form(pilot)
        await fill_backfill(pilot)
        await pilot.press("enter")
        await pilot.pause()

        (start,) = feed.sent
        assert (start.command, start.target, start.issued_by) == (
            CommandName.START,
            "queue-manager",
            "console",
        )
        assert start.queue_id.startswith("backfill-btcusdt-")
        assert start.payload == {
            "workflow": "backfill",
            "params": {
                "symbol": "BTCUSDT",
                "interval": "1m",
                "from": parse_time("2024-08-01T00:00"),
                "to": parse_time("2024-08-01T02:00"),
            },
        }
        screen = app.screen
        assert isinstance(screen, JobsScreen), "the form closed"
        assert screen.query_one(WorkflowsTable).selected_queue_id == start.queue_id


async def test_a_rejection_keeps_the_form_open_with_the_reason_by_its_field() -> None:
    app, feed = console(feed=ReplayFeed(answer=REJECTED))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        await fill_backfill(pilot)
        await type_into(pilot, "queue-id", "bf-1")
        await pilot.press("enter")
        await pilot.pause()

        assert [command.queue_id for command in feed.sent] == ["bf-1"]
        assert app.screen is form
        reason = "already used by a succeeded backfill workflow"
        assert status_of(form) == f"rejected: queue_id: {reason}"
        assert note(form, "queue-id") == reason


async def test_without_an_answer_the_form_says_the_queue_manager_did_not_answer() -> None:
    app, _ = console(answer_timeout=0.2)
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        await fill_backfill(pilot)
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert status_of(form) == "no answer from the queue-manager within 0.2 s"
        assert app.screen is form


async def test_the_fields_follow_the_selected_workflow() -> None:
    app, feed = console(feed=ReplayFeed(answer=answer_with(EventName.ACCEPTED, QM)))
    async with app.run_test(size=SIZE) as pilot:
        form = await open_form(pilot)
        form.query_one("#workflow", Select).value = "live"
        await pilot.pause()
        assert [field.label for field in form.query(Field)] == ["workflow", "symbols", "queue id"]

        await type_into(pilot, "param-symbols", "ethusdt, btcusdt")
        await pilot.press("enter")
        await pilot.pause()
        (start,) = feed.sent
        assert start.payload == {"workflow": "live", "params": {"symbols": ["ETHUSDT", "BTCUSDT"]}}
        assert start.queue_id.startswith("live-")


async def test_escape_closes_the_form_without_sending() -> None:
    app, feed = console()
    async with app.run_test(size=SIZE) as pilot:
        await open_form(pilot)
        await pilot.press("escape")
        assert isinstance(app.screen, JobsScreen)
        assert feed.sent == []

"""The jobs screen on fixed workflows: what it shows, and the commands its keys send.

Everything here runs without Kafka: a replay feed hands the console the events of
:func:`tests.tui.story.sample_log` and answers its commands, and the clock stands still, so the
snapshots are the same on every run.
"""

from __future__ import annotations

from textual.pilot import Pilot

from streamforge.schemas import CommandName, EventName
from tests.tui.driving import cell, jobs_of, waiter
from tests.tui.story import (
    OFFLINE,
    BeforeSnapshot,
    OfflineMarketFeed,
    ReplayFeed,
    SnapCompare,
    answer_with,
    console,
    sample_log,
)
from tui.palette import ActionsProvider
from tui.screens import ConfirmScreen, HelpScreen, JobsScreen
from tui.screens.market import MarketScreen
from tui.widgets import EventHistory, StepsTable, WorkflowsTable

SIZE = (150, 40)
TALL = (150, 60)
DONE, RUNNING, FAILED = (
    "backfill-btcusdt-00000001",
    "backfill-ethusdt-00000002",
    "backfill-solusdt-00000003",
)


def selecting(queue_id: str) -> BeforeSnapshot:
    """Before the snapshot: wait for the workflows, then put the cursor on ``queue_id``."""

    async def select(pilot: Pilot[None]) -> None:
        await pilot.pause()
        screen = pilot.app.screen
        assert isinstance(screen, JobsScreen)
        assert screen.query_one(WorkflowsTable).select(queue_id)
        history = screen.query_one(EventHistory)

        def following() -> bool:
            laid_out = history.virtual_size.height == history.row_count + 1  # and the header
            return history.queue_id == queue_id and laid_out and history.is_vertical_scroll_end

        await waiter(pilot)(following, "the history to follow its newest event")
        # The table scrolls its cursor into view after a refresh; settle that scroll so the
        # scrollbar is drawn at its final place in every run.
        history.scroll_end(animate=False, immediate=True)
        await pilot.pause()
        await waiter(pilot)(following, "the history to stay at its newest event")

    return select


def test_snapshot_of_a_running_workflow_with_its_steps_and_history(
    snap_compare: SnapCompare,
) -> None:
    app, _ = console(sample_log().events)
    assert snap_compare(app, terminal_size=SIZE, run_before=selecting(RUNNING))


def test_snapshot_of_a_failed_workflow_with_its_reason(snap_compare: SnapCompare) -> None:
    app, _ = console(sample_log().events)
    # Tall enough for the whole history: no scrollbar whose settling could vary the picture.
    assert snap_compare(app, terminal_size=TALL, run_before=selecting(FAILED))


async def test_every_workflow_is_rebuilt_from_the_log_with_progress_records_and_eta() -> None:
    app, _ = console(sample_log().events)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = jobs_of(app).query_one(WorkflowsTable)
        assert list(table.rows) == [DONE, FAILED, RUNNING], "in submission order"
        assert [cell(table, q, "status") for q in (DONE, FAILED, RUNNING)] == [
            "succeeded",
            "failed",
            "running",
        ]
        assert cell(table, DONE, "progress").endswith("100 %")
        assert cell(table, RUNNING, "progress").endswith("51 %"), "62 % and 40 % over two steps"
        assert cell(table, RUNNING, "records") == "44,064"
        assert cell(table, RUNNING, "eta") == "13m49s"
        assert cell(table, FAILED, "eta") == "-"
        assert cell(table, FAILED, "reason") == (
            "step load failed: HTTP 429 from the exchange (rate limit)"
        )


async def test_the_selected_workflow_shows_its_steps_and_its_history() -> None:
    log = sample_log()
    app, _ = console(log.events)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = jobs_of(app)
        screen.query_one(WorkflowsTable).select(FAILED)
        await pilot.pause()

        steps = screen.query_one(StepsTable)
        assert list(steps.rows) == ["load", "persist"]
        assert cell(steps, "load", "status") == "failed"
        assert cell(steps, "load", "attempt") == "4/4"
        assert cell(steps, "load", "detail") == "HTTP 429 from the exchange (rate limit)"
        assert cell(steps, "persist", "status") == "cancelled"

        history = screen.query_one(EventHistory)
        assert history.queue_id == FAILED
        shown = [event_id.value for event_id in history.rows]
        assert shown == [e.event_id for e in log.events if e.queue_id == FAILED][1:], (
            "every event of the workflow from its submission on"
        )


async def test_stop_asks_first_then_sends_stop_to_the_queue_manager() -> None:
    feed = ReplayFeed(sample_log().events, answer_with(EventName.ACCEPTED))
    app, _ = console(feed=feed)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        jobs_of(app).query_one(WorkflowsTable).select(RUNNING)
        await pilot.press("s")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert feed.sent == [], "no is no"

        await pilot.press("s", "y")
        await pilot.pause()
        (stop,) = feed.sent
        assert (stop.command, stop.queue_id, stop.target) == (
            CommandName.STOP,
            RUNNING,
            "queue-manager",
        )
        assert stop.issued_by == "console"


async def test_stop_is_offered_for_live_workflows_and_retry_for_failed_ones() -> None:
    app, _ = console(sample_log().events)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        screen = jobs_of(app)
        table = screen.query_one(WorkflowsTable)
        for queue_id, stop, retry in (
            (RUNNING, True, None),
            (FAILED, None, True),
            (DONE, None, None),
        ):
            table.select(queue_id)
            await pilot.pause()
            assert screen.check_action("stop", ()) is stop, queue_id
            assert screen.check_action("retry", ()) is retry, queue_id


async def test_retry_of_a_failed_workflow_and_ping_of_a_running_one() -> None:
    feed = ReplayFeed(sample_log().events, answer_with(EventName.ACCEPTED))
    app, _ = console(feed=feed)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = jobs_of(app).query_one(WorkflowsTable)
        table.select(FAILED)
        await pilot.press("r", "y")
        table.select(RUNNING)
        await pilot.press("p")
        await pilot.pause()
        retry, ping = feed.sent
        assert (retry.command, retry.queue_id, retry.target) == (
            CommandName.RETRY,
            FAILED,
            "queue-manager",
        )
        assert (ping.command, ping.queue_id, ping.target) == (CommandName.PING, RUNNING, "*")


async def test_rows_are_clickable() -> None:
    app, _ = console(sample_log().events)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        table = jobs_of(app).query_one(WorkflowsTable)
        await pilot.click(WorkflowsTable, offset=(5, 1 + 1 + 2))  # border, header, third row
        await pilot.pause()
        assert table.selected_queue_id == RUNNING


async def test_help_lists_every_action_with_its_key() -> None:
    app, _ = console(sample_log().events)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        await pilot.press("question_mark")
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        for row in (
            "| `s` | Stop (cancel) the selected workflow |",
            "| `r` | Retry the failed steps of the selected workflow |",
            "| `p` | Ping the services running the selected workflow |",
            "| `n` | Start a workflow from a form |",
            "| `a` | Add a symbol to the watchlist |",
            "| `x` | Remove a symbol from the watchlist |",
            "| `m` | Show the market screen |",
        ):
            assert row in help_screen.text


async def test_the_command_palette_offers_every_action_the_footer_shows() -> None:
    app, _ = console(sample_log().events)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        jobs_of(app).query_one(WorkflowsTable).select(FAILED)
        await pilot.pause()
        hits = [hit async for hit in ActionsProvider(app.screen).discover()]
        assert [hit.text for hit in hits] == [
            "Retry",
            "Ping",
            "Market",
            "Start",
            "Watch",
            "Unwatch",
            "Help",
            "Quit",
        ], "not Stop (the workflow failed) nor Jobs (shown already)"
        assert hits[0].help == "Retry the failed steps of the selected workflow  (key: r)"

        await pilot.press("ctrl+p", *"retry", "enter")
        await waiter(pilot)(lambda: isinstance(app.screen, ConfirmScreen), "the confirmation")


async def test_j_and_m_switch_between_the_jobs_and_the_market_screen() -> None:
    app, _ = console(market_feed=OfflineMarketFeed(OFFLINE))
    async with app.run_test(size=SIZE) as pilot:
        jobs = jobs_of(app)
        await pilot.press("m")
        assert isinstance(app.screen, MarketScreen)
        await pilot.press("j")
        assert jobs_of(app) is jobs, "the same jobs screen, its state kept"

"""The console application and its command line (``streamforge-tui``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from functools import partial
from pathlib import Path

from textual.app import App
from textual.binding import Binding
from textual.reactive import var

from streamforge.config import Settings, SettingsError, config_path, load_settings
from streamforge.orchestration.state import WorkflowBoard
from streamforge.orchestration.workflows import DefinitionError, WorkflowCatalog
from streamforge.schemas import Command, CommandName, now_millis
from tui.clock import Clock
from tui.config import FLAGS, ConsoleConfig, load_console_config
from tui.feed import (
    EventFeed,
    EventsReceived,
    FeedStats,
    FeedStatus,
    FeedStatusChanged,
    LinkState,
)
from tui.market import MarketFeed
from tui.palette import ActionsProvider
from tui.replies import LOADER_WS, QUEUE_MANAGER, Outcome, PendingReplies, describe
from tui.screens import HelpScreen, JobsScreen, StartWorkflowScreen, SymbolScreen
from tui.screens.market import MarketScreen
from tui.validation import check_symbol

#: Who the console's commands are issued by.
ISSUER = "console"


class StreamForgeApp(App[None]):
    """The operator console: a jobs screen that follows the workflows on the event log and
    sends their commands, and a market screen for the watched symbols.

    Args:
        settings: How to reach Kafka and which topic prefix to use.
        config: Watchlist, layout and theme.
        catalog: The workflows the start form offers.
        queue_id: Only show this queue id's workflow.
        feed: The event feed (built from ``settings`` and ``queue_id`` when omitted).
        market_feed: The market screen's feed (built by the screen when omitted).
        clock: The time that ages and ETAs are shown against.
        answer_timeout: Seconds to wait for the answer to a command.
        ping_timeout: Seconds to wait for a pong.
    """

    TITLE = "StreamForge"
    CSS_PATH = Path(__file__).with_name("streamforge.tcss")
    COMMANDS = App.COMMANDS | {ActionsProvider}
    BINDINGS = [
        Binding("j", "show('jobs')", "Jobs", tooltip="Show the jobs screen"),
        Binding("m", "show('market')", "Market", tooltip="Show the market screen"),
        Binding("n", "start_workflow", "Start", tooltip="Start a workflow from a form"),
        Binding("a", "watch_symbol", "Watch", tooltip="Add a symbol to the watchlist"),
        Binding("x", "unwatch_symbol", "Unwatch", tooltip="Remove a symbol from the watchlist"),
        Binding("question_mark", "help", "Help", key_display="?", tooltip="Show this help"),
        Binding("q", "quit", "Quit", tooltip="Leave the console"),
    ]

    revision: var[int] = var(0)
    """Grows by one for each batch that changed a workflow on :attr:`board`."""
    link: var[FeedStatus] = var(FeedStatus(LinkState.CONNECTING))
    """The event feed's link to Kafka."""

    def __init__(
        self,
        settings: Settings,
        *,
        config: ConsoleConfig | None = None,
        catalog: WorkflowCatalog | None = None,
        queue_id: str | None = None,
        feed: EventFeed | None = None,
        market_feed: MarketFeed | None = None,
        clock: Clock = now_millis,
        answer_timeout: float = 10.0,
        ping_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.config = config or ConsoleConfig()
        self.catalog = catalog or WorkflowCatalog.load()
        self.feed = feed or EventFeed(settings, queue_id=queue_id)
        self.market_feed = market_feed
        self.clock = clock
        self.answer_timeout = answer_timeout
        self.ping_timeout = ping_timeout
        self.board = WorkflowBoard()
        self.pending = PendingReplies()
        self.watchlist = list(self.config.watchlist)
        self.theme = self.config.theme
        self.jobs = JobsScreen(self.board, clock, self.feed_stats)
        self.market: MarketScreen | None = None
        self.add_mode("jobs", lambda: self.jobs)
        self.add_mode("market", self._market_screen)
        scope = settings.topic_prefix or "no topic prefix"
        self.sub_title = f"{settings.kafka.bootstrap} ({scope})"
        if self.feed.queue_id is not None:
            self.sub_title += f", queue {self.feed.queue_id}"

    def _market_screen(self) -> MarketScreen:
        self.market = MarketScreen(
            self.settings,
            self.watchlist,
            feed=self.market_feed,
            depth=self.config.depth,
            clock=self.clock,
        )
        return self.market

    async def on_mount(self) -> None:
        self.run_worker(self.feed.run(self), name="event-feed", group="feed", exclusive=True)
        await self.switch_mode(self.config.start_screen)

    def feed_stats(self) -> list[tuple[str, FeedStats]]:
        """The feeds the status bar reports on: events, and market data once it is shown."""
        feeds: list[tuple[str, FeedStats]] = [("events", self.feed.stats)]
        if self.market is not None:
            feeds.append(("market", self.market.feed.stats))
        return feeds

    # -- the event feed ---------------------------------------------------------------------

    def on_events_received(self, message: EventsReceived) -> None:
        changed = False
        for event in message.events:
            changed |= self.board.apply(event) is not None
        self.pending.settle(message.events)
        if changed:
            self.revision += 1

    def on_feed_status_changed(self, message: FeedStatusChanged) -> None:
        self.link = message.status

    # -- commands ---------------------------------------------------------------------------

    async def ask(self, command: Command, wait_s: float | None = None) -> Outcome:
        """Send ``command`` and wait for its answer (``wait_s``, default the answer timeout)."""
        return await self.pending.ask(self.feed.send, command, wait_s or self.answer_timeout)

    async def _ask_and_tell(self, command: Command, wait_s: float | None = None) -> None:
        self._tell(await self.ask(command, wait_s))

    def _tell(self, outcome: Outcome) -> None:
        note = describe(outcome)
        self.notify(note.message, title=note.title, severity=note.severity, markup=False)

    def _send(self, command: Command, wait_s: float | None = None) -> None:
        self.run_worker(self._ask_and_tell(command, wait_s), group="commands")

    def on_jobs_screen_command_requested(self, message: JobsScreen.CommandRequested) -> None:
        if message.command is CommandName.PING:
            ping = Command.new(CommandName.PING, message.queue_id, issued_by=ISSUER)
            self._send(ping, self.ping_timeout)
            return
        command = Command.new(
            message.command, message.queue_id, target=QUEUE_MANAGER, issued_by=ISSUER
        )
        self._send(command)

    # -- actions ----------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Dim the key of the screen shown already."""
        if action == "show":
            return parameters[0] != self.current_mode or None
        return True

    async def action_show(self, screen: str) -> None:
        """Show the ``jobs`` or the ``market`` screen."""
        await self.switch_mode(screen)
        self.refresh_bindings()

    def action_start_workflow(self) -> None:
        """Open the start-workflow form."""
        form = StartWorkflowScreen(self.catalog, self.ask, issued_by=ISSUER)
        self.push_screen(form, self._started)

    async def _started(self, outcome: Outcome | None) -> None:
        if outcome is None:
            return
        self._tell(outcome)
        await self.action_show("jobs")
        self.jobs.select(outcome.command.queue_id)

    def action_watch_symbol(self) -> None:
        """Ask for a symbol to add to the watchlist."""
        check = partial(check_symbol, watched=self.watchlist, watching=True)
        dialog = SymbolScreen(
            "Watch a symbol", check, help="Subscribed on loader-ws and shown on the market screen"
        )
        self.push_screen(dialog, self._watch)

    def action_unwatch_symbol(self) -> None:
        """Ask for a symbol to remove from the watchlist (the market's selected one first)."""
        check = partial(check_symbol, watched=self.watchlist, watching=False)
        selected = self.market.selected if self.market is not None else None
        dialog = SymbolScreen(
            "Stop watching a symbol",
            check,
            value=selected or "",
            help=f"Watched: {', '.join(self.watchlist) or 'none'}",
        )
        self.push_screen(dialog, self._unwatch)

    def _watch(self, symbol: str | None) -> None:
        if symbol is None:
            return
        self.watchlist.append(symbol)
        if self.market is not None:
            self.market.add_symbol(symbol)
        self._subscription(CommandName.SUBSCRIBE, symbol)

    def _unwatch(self, symbol: str | None) -> None:
        if symbol is None:
            return
        self.watchlist.remove(symbol)
        if self.market is not None:
            self.market.remove_symbol(symbol)
        self._subscription(CommandName.UNSUBSCRIBE, symbol)

    def _subscription(self, command: CommandName, symbol: str) -> None:
        payload = {"symbols": [symbol]}
        self._send(Command.new(command, "*", target=LOADER_WS, payload=payload, issued_by=ISSUER))

    def action_help(self) -> None:
        """Show the help dialog with the keys of the current screen."""
        bindings = [active.binding for active in self.screen.active_bindings.values()]
        self.push_screen(HelpScreen(bindings))


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line of ``streamforge-tui``."""
    parser = argparse.ArgumentParser(
        prog="streamforge-tui", description="The StreamForge operator console."
    )
    parser.add_argument(
        "--config",
        metavar="FILE",
        default=None,
        help="settings file (default: $STREAMFORGE_CONFIG, else ./streamforge.toml if present)",
    )
    parser.add_argument(
        "--console-config",
        metavar="FILE",
        default=None,
        help="console settings file with a [console] table (default: $STREAMFORGE_CONSOLE_CONFIG,"
        " else the [console] table of the settings file)",
    )
    parser.add_argument("--queue-id", default=None, help="only show the workflow of this queue id")
    parser.add_argument(
        "--workflows",
        metavar="FILE",
        type=Path,
        action="append",
        default=[],
        help="workflow definitions the queue-manager was given (repeatable)",
    )
    parser.add_argument(
        FLAGS["watchlist"], metavar="SYMBOLS", help="comma-separated symbols to watch"
    )
    parser.add_argument(FLAGS["depth"], metavar="LEVELS", help="order book levels a side")
    parser.add_argument(FLAGS["theme"], metavar="NAME", help="a Textual theme, e.g. nord")
    parser.add_argument(
        FLAGS["start_screen"], dest="start_screen", metavar="SCREEN", help="market or jobs"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the console (console script ``streamforge-tui``)."""
    args = parse_args(argv)
    try:
        settings = load_settings(config_file=args.config)
        config = load_console_config(
            os.environ,
            settings_file=config_path(os.environ, args.config),
            console_file=args.console_config,
            flags={name: getattr(args, name) for name in FLAGS},
        )
        catalog = WorkflowCatalog.load(args.workflows)
    except (SettingsError, DefinitionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    app = StreamForgeApp(settings, config=config, catalog=catalog, queue_id=args.queue_id)
    app.run()
    raise SystemExit(app.return_code or 0)

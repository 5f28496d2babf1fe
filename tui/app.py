"""The console application and its command line (``streamforge-tui``)."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from pathlib import Path

from aiokafka.errors import KafkaError
from textual.app import App
from textual.binding import Binding
from textual.reactive import var
from textual.screen import Screen

from streamforge.config import Settings, SettingsError, load_settings
from streamforge.schemas import Command, CommandName, now_millis
from tui.feed import (
    EventFeed,
    EventsReceived,
    FeedStatus,
    FeedStatusChanged,
    FeedUnavailable,
    LinkState,
)
from tui.format import format_age
from tui.rate import RateMeter
from tui.replies import PendingReplies
from tui.screens import HelpScreen, JobsScreen
from tui.state import JobBoard

#: Who the console's commands are issued by.
ISSUER = "console"


class StreamForgeApp(App[None]):
    """The operator console: follows the event log and sends commands to jobs.

    Args:
        settings: How to reach Kafka and which topic prefix to use.
        queue_id: Only show this queue id's jobs.
        feed: The event feed (built from ``settings`` and ``queue_id`` when omitted).
        ping_timeout: Seconds to wait for a pong before reporting a timeout.
    """

    TITLE = "StreamForge"
    CSS_PATH = Path(__file__).with_name("streamforge.tcss")
    BINDINGS = [
        Binding("q", "quit", "Quit"),
        Binding("question_mark", "help", "Help", key_display="?"),
    ]

    revision: var[int] = var(0)
    """Grows by one for each batch that brought new events onto :attr:`board`."""
    link: var[FeedStatus] = var(FeedStatus(LinkState.CONNECTING))
    """The event feed's link to Kafka."""

    def __init__(
        self,
        settings: Settings,
        *,
        queue_id: str | None = None,
        feed: EventFeed | None = None,
        ping_timeout: float = 5.0,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.feed = feed or EventFeed(settings, queue_id=queue_id)
        self.ping_timeout = ping_timeout
        self.board = JobBoard()
        self.rate = RateMeter()
        self.pending = PendingReplies()
        scope = settings.topic_prefix or "no topic prefix"
        self.sub_title = f"{settings.kafka.bootstrap} ({scope})"
        if self.feed.queue_id is not None:
            self.sub_title += f", queue {self.feed.queue_id}"

    def get_default_screen(self) -> Screen[None]:
        return JobsScreen(self.board, self.rate)

    def on_mount(self) -> None:
        self.run_worker(self.feed.run(self), name="event-feed", group="feed", exclusive=True)
        self.set_interval(0.5, self._expire_replies)

    def on_events_received(self, message: EventsReceived) -> None:
        fresh = self.board.apply_all(message.events)
        self.rate.add(fresh, time.monotonic())
        for answer in self.pending.answered(message.events):
            event = answer.event
            waited = format_age(max(now_millis() - answer.command.timestamp, 0) / 1000)
            state = event.payload.get("state", event.event.value)
            self.notify(
                f"{event.producer}: {state} (after {waited})",
                title=f"{event.event.value} from {event.queue_id}",
                markup=False,
            )
        if fresh:
            self.revision += 1

    def on_feed_status_changed(self, message: FeedStatusChanged) -> None:
        self.link = message.status

    def on_jobs_screen_command_requested(self, message: JobsScreen.CommandRequested) -> None:
        command = Command.new(message.command, message.queue_id, issued_by=ISSUER)
        self.run_worker(self._send(command), group="commands")

    async def _send(self, command: Command) -> None:
        if command.command is CommandName.PING:
            self.pending.expect(command, time.monotonic() + self.ping_timeout)
        try:
            await self.feed.send(command)
        except (FeedUnavailable, KafkaError) as exc:
            self.pending.discard(command)
            self.notify(
                str(exc) or type(exc).__name__,
                title=f"{command.command.value} to {command.queue_id} not sent",
                severity="error",
                markup=False,
            )
            return
        if command.command is not CommandName.PING:
            self.notify(
                f"{command.command.value} sent to {command.queue_id}",
                title="command sent",
                markup=False,
            )

    def _expire_replies(self) -> None:
        for command in self.pending.expired(time.monotonic()):
            self.notify(
                f"no answer from {command.queue_id} within {self.ping_timeout:g} s",
                title=f"{command.command.value} timed out",
                severity="warning",
                markup=False,
            )

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
    parser.add_argument("--queue-id", default=None, help="only show the jobs of this queue id")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> None:
    """Run the console (console script ``streamforge-tui``)."""
    args = parse_args(argv)
    try:
        settings = load_settings(config_file=args.config)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    app = StreamForgeApp(settings, queue_id=args.queue_id)
    app.run()
    raise SystemExit(app.return_code or 0)

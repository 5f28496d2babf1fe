"""The status bar: the broker link, then lag, rate, age of the last update and reconnects of
each feed the console reads."""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.feed import FeedStats, FeedStatus, LinkState
from tui.format import format_age

#: Between the parts of the status bar.
SEPARATOR = "  │  "


def describe_link(link: FeedStatus) -> str:
    """The link state in words, with the reason and the retry delay when it is down."""
    if link.state is LinkState.CONNECTED:
        return "● broker connected"
    if link.state is LinkState.CONNECTING:
        return "◌ connecting to broker"
    text = "○ broker disconnected"
    if link.detail:
        text += f": {link.detail}"
    if link.retry_in is not None:
        text += f" (retry in {link.retry_in:g} s)"
    return text


def describe_feed(name: str, stats: FeedStats, now_ms: int) -> str:
    """One feed in a few words: ``events 1,204 · 3.5/s · lag 0 · last 2s ago · 0 reconnects``."""
    if not stats.connected and stats.detail:
        return f"{name} ○ {stats.detail}"
    last = stats.last_update_ms
    age = "no data yet" if last is None else f"last {format_age((now_ms - last) / 1000)} ago"
    reconnects = "1 reconnect" if stats.reconnects == 1 else f"{stats.reconnects} reconnects"
    return (
        f"{name} {stats.messages_total:,} · {stats.rate:.1f}/s · lag {stats.lag:,} · {age} · "
        f"{reconnects}"
    )


class StatusBar(Widget):
    """One line about the broker link and the feeds; the class ``-connected`` or
    ``-disconnected`` follows the link so the stylesheet can colour it."""

    link: reactive[FeedStatus] = reactive(FeedStatus(LinkState.CONNECTING))
    """The event feed's link to Kafka."""

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._feeds = ""

    def watch_link(self, link: FeedStatus) -> None:
        self.set_class(link.state is LinkState.CONNECTED, "-connected")
        self.set_class(link.state is LinkState.DISCONNECTED, "-disconnected")

    def show(self, feeds: Sequence[tuple[str, FeedStats]], now_ms: int) -> None:
        """Show the named feeds' figures as of ``now_ms``."""
        text = SEPARATOR.join(describe_feed(name, stats, now_ms) for name, stats in feeds)
        if text != self._feeds:
            self._feeds = text
            self.refresh()

    def render(self) -> Content:
        link = describe_link(self.link)
        return Content(f"{link}{SEPARATOR}{self._feeds}" if self._feeds else link)

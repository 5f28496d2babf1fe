"""The status bar: link to Kafka, events per second and the age of the last event."""

from __future__ import annotations

from textual.content import Content
from textual.reactive import reactive
from textual.widget import Widget

from tui.feed import FeedStatus, LinkState
from tui.format import format_age


class StatusBar(Widget):
    """One line about the event feed; the class ``-connected`` or ``-disconnected`` follows
    the link so the stylesheet can colour it."""

    link: reactive[FeedStatus] = reactive(FeedStatus(LinkState.CONNECTING))
    """The feed's link to Kafka."""
    rate: reactive[float] = reactive(0.0)
    """Events per second recently received."""
    last_event_age: reactive[float | None] = reactive(None)
    """Seconds since the newest event's timestamp, ``None`` before any event."""

    def watch_link(self, link: FeedStatus) -> None:
        self.set_class(link.state is LinkState.CONNECTED, "-connected")
        self.set_class(link.state is LinkState.DISCONNECTED, "-disconnected")

    def render(self) -> Content:
        age = self.last_event_age
        last = "no events yet" if age is None else f"last event {format_age(age)} ago"
        return Content(f"{describe_link(self.link)}  │  {self.rate:.1f} events/s  │  {last}")


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

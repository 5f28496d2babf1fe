"""The help dialog: what the console shows and the keys of the screen it was opened from."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

ABOUT = """\
# StreamForge console

The console follows the event log (`queue-events`) from its beginning.

- **Jobs**: one row per queue id with its service, status (starting, running, finished, error,
  interrupted), last reported progress, records written and the age of its current run.
- **History**: the newest events of the selected job, oldest first.
- **Status bar**: the link to Kafka, events received per second and the age of the newest event.
"""


def keys_markdown(bindings: Iterable[Binding]) -> str:
    """A Markdown table of the bindings that the footer shows."""
    rows = [
        f"| `{binding.key_display or binding.key}` | {binding.tooltip or binding.description} |"
        for binding in bindings
        if binding.show
    ]
    return "\n".join(["## Keys", "", "| key | action |", "|---|---|", *rows])


class HelpScreen(ModalScreen[None]):
    """A dialog explaining the console and listing the given key bindings."""

    BINDINGS = [Binding("escape,question_mark", "dismiss", "Close", key_display="esc")]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        self._text = f"{ABOUT}\n{keys_markdown(bindings)}\n"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Markdown(self._text)

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

The console rebuilds every workflow from the event log (`queue-events`) when it starts, with the
same fold as the queue-manager and the CLI, then follows the log live.

- **Workflows**: one row per workflow with its status (pending, running, succeeded, failed,
  cancelled), progress over all steps, records written, time left at the pace so far (ETA),
  age since submission and, for a failed or cancelled one, the reason.
- **Steps**: the selected workflow's steps with their status (also retrying), attempt,
  progress, records and why an attempt failed or what it last reported.
- **History**: the selected workflow's newest events, oldest first.
- **Market** (`m`): the watched symbols live; `a` and `x` add and remove symbols.
- **Status bar**: the broker link, then for each feed the messages received, messages per
  second, lag (messages not read yet), the age of the newest message and the reconnects.

Every action below is also in the command palette (`ctrl+p`); rows and keys are clickable.
"""


def keys_markdown(bindings: Iterable[Binding]) -> str:
    """A Markdown table of the bindings that the footer shows, one row per action."""
    shown: dict[str, Binding] = {}
    for binding in bindings:
        if binding.show:
            shown.setdefault(binding.action, binding)
    rows = [
        f"| `{binding.key_display or binding.key}` | {binding.tooltip or binding.description} |"
        for binding in shown.values()
    ]
    return "\n".join(["## Keys", "", "| key | action |", "|---|---|", *rows])


class HelpScreen(ModalScreen[None]):
    """A dialog explaining the console and listing the given key bindings."""

    BINDINGS = [Binding("escape,question_mark", "dismiss", "Close", key_display="esc")]

    def __init__(self, bindings: Iterable[Binding]) -> None:
        super().__init__()
        #: The Markdown shown.
        self.text = f"{ABOUT}\n{keys_markdown(bindings)}\n"

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help-dialog"):
            yield Markdown(self.text)

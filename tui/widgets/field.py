"""A labelled form control with a note under it: its help, or what is wrong with its value."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.widget import Widget
from textual.widgets import Label, Static


class Field(Vertical):
    """``label`` beside ``control``, and a note below that shows ``help`` until
    :meth:`show_error` reports a problem (the class ``-invalid`` is set meanwhile)."""

    def __init__(self, label: str, control: Widget, help: str = "") -> None:
        super().__init__(classes="field")
        self.label = label
        self.control = control
        self.help = help
        self._shown = help

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field-row"):
            yield Label(self.label, classes="field-label")
            yield self.control
        yield Static(self._shown, classes="field-note", markup=False)

    def show_error(self, reason: str | None) -> None:
        """Show what is wrong (``None``: nothing, show the help again)."""
        self.set_class(reason is not None, "-invalid")
        text = self.help if reason is None else reason
        if text != self._shown:  # an unchanged note costs no layout
            self._shown = text
            self.query_one(".field-note", Static).update(text)

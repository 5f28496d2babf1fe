"""A small dialog asking for one symbol to add to or remove from the watchlist."""

from __future__ import annotations

from collections.abc import Callable

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label

from tui.widgets.field import Field

#: Turns what was typed into the symbol to act on, or raises ``ValueError`` saying why not.
SymbolCheck = Callable[[str], str]


class SymbolScreen(ModalScreen[str | None]):
    """Asks for a symbol; dismissed with the checked symbol, ``None`` if cancelled.

    Args:
        title: What the dialog is for.
        check: Checks and canonicalises what was typed.
        value: The text to start with.
        help: The note under the input.
    """

    BINDINGS = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str, check: SymbolCheck, *, value: str = "", help: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.check = check
        self.value = value
        self.help = help

    def compose(self) -> ComposeResult:
        with Vertical(id="symbol-dialog", classes="dialog"):
            yield Label(self.title_text, classes="dialog-title")
            yield Field(
                "symbol",
                Input(self.value, placeholder="BTCUSDT", id="symbol", compact=True),
                self.help,
            )
            with Horizontal(classes="dialog-buttons"):
                yield Button("OK", variant="primary", id="ok", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    @on(Input.Submitted)
    @on(Button.Pressed, "#ok")
    def _submit(self) -> None:
        field = self.query_one(Field)
        try:
            symbol = self.check(self.query_one("#symbol", Input).value)
        except ValueError as exc:
            field.show_error(str(exc))
            return
        self.dismiss(symbol)

    @on(Input.Changed)
    def _edited(self) -> None:
        self.query_one(Field).show_error(None)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close without a symbol."""
        self.dismiss(None)

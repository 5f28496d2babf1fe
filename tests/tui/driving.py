"""Driving the console from a test: waiting for what it shows, filling in the start form."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.pilot import Pilot
from textual.widgets import Input, Static

from tests.tui.waiting import eventually
from tui.app import StreamForgeApp
from tui.screens import JobsScreen, StartWorkflowScreen, SymbolScreen
from tui.widgets import Field, StepsTable, WorkflowsTable

Until = Callable[[Callable[[], bool], str], Awaitable[None]]


def waiter(pilot: Pilot[None]) -> Until:
    """``await until(condition, what)``: let the console run until ``condition()`` holds."""

    async def until(condition: Callable[[], bool], what: str) -> None:
        await eventually(condition, what, pause=lambda: pilot.pause(0.05))

    return until


def jobs_of(app: StreamForgeApp) -> JobsScreen:
    """The jobs screen, which must be the one shown."""
    screen = app.screen
    assert isinstance(screen, JobsScreen), screen
    return screen


def cell(table: WorkflowsTable | StepsTable, row: str, column: str) -> str:
    """The text in a table cell; empty while the row does not exist."""
    return table.get_cell(row, column).plain if row in table.rows else ""


async def open_form(pilot: Pilot[None]) -> StartWorkflowScreen:
    """Press ``n`` and return the form, its cursors still (for snapshots)."""
    await pilot.press("n")
    form = pilot.app.screen
    assert isinstance(form, StartWorkflowScreen)
    for control in form.query(Input):
        control.cursor_blink = False
    return form


async def type_into(pilot: Pilot[None], control_id: str, text: str) -> None:
    """Move to an input and type ``text`` key by key."""
    pilot.app.screen.query_one(f"#{control_id}", Input).focus()
    await pilot.press(*text)


async def fill_backfill(pilot: Pilot[None], **fields: str) -> None:
    """Fill in a backfill's fields (by default BTCUSDT over two hours), as if pasted."""
    values = {"symbol": "btcusdt", "from": "2024-08-01T00:00", "to": "2024-08-01T02:00", **fields}
    for name, text in values.items():
        pilot.app.screen.query_one(f"#param-{name}", Input).value = text
    await pilot.pause()


def note(form: StartWorkflowScreen, control_id: str) -> str:
    """The note under a field of the form: its help or what is wrong."""
    return _note(form.query_one(f"#{control_id}").query_ancestor(Field))


def note_of_dialog(dialog: SymbolScreen) -> str:
    """The note under the symbol dialog's input."""
    return _note(dialog.query_one(Field))


def _note(field: Field) -> str:
    return str(field.query_one(".field-note", Static).content)


def status_of(form: StartWorkflowScreen) -> str:
    """The form's status line (sending, rejected, no answer)."""
    return str(form.query_one("#start-status", Static).content)

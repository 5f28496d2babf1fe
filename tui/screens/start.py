"""The start-workflow form: pick a workflow, fill in its parameters, send ``start``.

The fields come from the workflow's parameter definitions. Each is checked when it is left, and
on every change after that, with the rules the queue-manager applies (:mod:`tui.validation`);
nothing is sent while any is wrong. Once sent, the form waits for the queue-manager's answer:
``accepted`` closes it with that outcome; ``rejected`` (shown with its field and reason), no
answer, or a command that could not be sent keep it open to correct and send again.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static

from streamforge.exchanges.binance.intervals import INTERVALS
from streamforge.orchestration.params import ParamType
from streamforge.orchestration.workflows import (
    ParamDef,
    WorkflowCatalog,
    WorkflowDef,
    new_queue_id,
)
from streamforge.schemas import Command, CommandName
from tui.replies import QUEUE_MANAGER, Outcome, describe
from tui.validation import PARAM_PREFIX, check_params, check_queue_id
from tui.widgets.field import Field

#: Sends a command and waits for what becomes of it.
Ask = Callable[[Command], Awaitable[Outcome]]

#: Example values shown in empty inputs, by parameter type.
PLACEHOLDERS = {
    ParamType.SYMBOL: "BTCUSDT",
    ParamType.SYMBOLS: "BTCUSDT,ETHUSDT",
    ParamType.TIME: "2024-08-01T00:00",
}

#: The queue id's field, named as the queue-manager names it in a rejection.
QUEUE_ID = "queue_id"
#: Ids of the controls that are not parameters (a parameter's is ``param-<name>``).
CONTROL_IDS = {"workflow": "workflow", QUEUE_ID: "queue-id"}
_FIELD_NAMES = {control: name for name, control in CONTROL_IDS.items()}


def control_id(name: str) -> str:
    """The id of the control of field ``name`` (a parameter, the workflow or the queue id)."""
    return CONTROL_IDS.get(name, f"param-{name}")


def field_name(control: Widget) -> str:
    """The field that ``control`` is the control of."""
    ident = control.id or ""
    return _FIELD_NAMES.get(ident, ident.removeprefix("param-"))


def param_control(name: str, spec: ParamDef) -> Widget:
    """The input for one parameter: a select for intervals, else a text input."""
    default = None if spec.default is msgspec.UNSET else spec.default
    if spec.type is ParamType.INTERVAL:
        return Select(
            [(interval, interval) for interval in INTERVALS],
            value=default if default in INTERVALS else Select.NULL,
            allow_blank=spec.required,
            prompt="interval",
            id=control_id(name),
            compact=True,
        )
    return Input(
        value="" if default is None else str(default),
        placeholder=PLACEHOLDERS.get(spec.type, spec.type.value),
        id=control_id(name),
        compact=True,
    )


class StartWorkflowScreen(ModalScreen[Outcome | None]):
    """The form; dismissed with the outcome of an accepted ``start``, ``None`` if cancelled.

    Args:
        catalog: The workflows to offer (the queue-manager's, as far as the console knows).
        ask: Sends the ``start`` command and returns its outcome.
        issued_by: Who the command is issued by.
        workflow: The workflow selected at first (default: the first by name).
    """

    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Start", tooltip="Check the fields and send start"),
    ]

    def __init__(
        self,
        catalog: WorkflowCatalog,
        ask: Ask,
        *,
        issued_by: str,
        workflow: str | None = None,
    ) -> None:
        super().__init__()
        self.catalog = catalog
        self.ask = ask
        self.issued_by = issued_by
        names = catalog.names()
        self.workflow = workflow if workflow in names else names[0]
        self._touched: set[str] = set()
        self._sending = False

    @property
    def definition(self) -> WorkflowDef:
        """The selected workflow's definition."""
        definition = self.catalog.get(self.workflow)
        assert definition is not None
        return definition

    def compose(self) -> ComposeResult:
        with Vertical(id="start-dialog", classes="dialog"):
            yield Label("Start a workflow", classes="dialog-title")
            with VerticalScroll(id="start-fields"):
                options = [(name, name) for name in self.catalog.names()]
                yield Field(
                    "workflow",
                    Select(
                        options, value=self.workflow, allow_blank=False, id="workflow", compact=True
                    ),
                    self.definition.description,
                )
                yield Vertical(*self._param_fields(), id="params")
                yield Field(
                    "queue id",
                    Input(placeholder="new id", id="queue-id", compact=True),
                    "Left empty: a new id",
                )
            yield Static("", id="start-status", markup=False)
            with Horizontal(classes="dialog-buttons"):
                yield Button("Start", variant="primary", id="start", compact=True)
                yield Button("Cancel", id="cancel", compact=True)

    def on_mount(self) -> None:
        self._focus_first(Input)

    def _param_fields(self) -> list[Field]:
        return [
            Field(name, param_control(name, spec), spec.help)
            for name, spec in self.definition.params.items()
        ]

    @on(Select.Changed, "#workflow")
    async def _workflow_changed(self, changed: Select.Changed) -> None:
        if not isinstance(changed.value, str) or changed.value == self.workflow:
            return
        self.workflow = changed.value
        self._touched.clear()
        params = self.query_one("#params", Vertical)
        await params.remove_children()
        await params.mount_all(self._param_fields())
        workflow_field = self._field_of("workflow")
        workflow_field.help = self.definition.description
        workflow_field.show_error(None)
        self._status("")

    def _field_of(self, name: str) -> Field:
        return self.query_one(f"#{control_id(name)}").query_ancestor(Field)

    def given(self) -> dict[str, str]:
        """The parameter texts entered, empty ones left out (so defaults apply)."""
        given: dict[str, str] = {}
        for name in self.definition.params:
            control = self.query_one(f"#{control_id(name)}")
            value = control.value if isinstance(control, Input | Select) else None
            if isinstance(value, str) and value.strip():
                given[name] = value.strip()
        return given

    @on(Input.Blurred)
    @on(Select.Changed, "#params Select")
    def _left(self, message: Input.Blurred | Select.Changed) -> None:
        self._touched.add(field_name(message.control))
        self.check()

    @on(Input.Changed)
    def _edited(self) -> None:
        self.check()

    def check(self) -> tuple[dict[str, Any], str] | None:
        """The canonical parameters and the queue id, or ``None`` if a field is wrong; shows
        the problems of the fields left so far (of all once a submission was tried)."""
        checked = check_params(self.definition, self.given())
        errors = dict(checked.errors)
        queue_id = self.query_one("#queue-id", Input).value.strip()
        if queue_id and (problem := check_queue_id(queue_id)):
            errors[QUEUE_ID] = problem
        for name in (*self.definition.params, QUEUE_ID):
            shown = errors.get(name) if name in self._touched else None
            self._field_of(name).show_error(shown)
        if errors or checked.values is None:
            return None
        hint = str(checked.values.get("symbol", ""))
        return checked.values, queue_id or new_queue_id(self.workflow, hint)

    @on(Input.Submitted)
    @on(Button.Pressed, "#start")
    def action_submit(self) -> None:
        """Check every field and, if all are right, send ``start``."""
        if self._sending:
            return
        self._touched.update((*self.definition.params, QUEUE_ID))
        checked = self.check()
        if checked is None:
            self._status("fix the fields marked in red", error=True)
            self._focus_first(invalid=True)
            return
        params, queue_id = checked
        command = Command.new(
            CommandName.START,
            queue_id,
            target=QUEUE_MANAGER,
            payload={"workflow": self.workflow, "params": params},
            issued_by=self.issued_by,
        )
        self._sending = True  # before the worker starts: a second submit waits for the answer
        self.query_one("#start", Button).disabled = True
        self._status(f"sending start {self.workflow} as {command.queue_id} ...")
        self._send(command)

    @work(group="start")
    async def _send(self, command: Command) -> None:
        outcome = await self.ask(command)
        if outcome.accepted:
            self.dismiss(outcome)
            return
        self._sending = False
        self.query_one("#start", Button).disabled = False
        if outcome.rejection is not None:
            field, reason = outcome.rejection
            self._status(f"rejected: {field}: {reason}", error=True)
            name = field.removeprefix(PARAM_PREFIX)
            if name in (*self.definition.params, QUEUE_ID):
                self._field_of(name).show_error(reason)
            return
        why = f"not sent: {outcome.error}" if outcome.error else describe(outcome).message
        self._status(why, error=True)

    def _focus_first(self, kind: type[Widget] = Widget, *, invalid: bool = False) -> None:
        for field in self.query(Field):
            if isinstance(field.control, kind) and (field.has_class("-invalid") or not invalid):
                field.control.focus()
                return

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#start-status", Static)
        status.update(text)
        status.set_class(error, "-error")

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        """Close the form without sending anything."""
        self.dismiss(None)

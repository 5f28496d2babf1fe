"""Widgets of the operator console."""

from tui.widgets.field import Field
from tui.widgets.jobs import EventHistory, StepsTable, WorkflowsTable
from tui.widgets.status import StatusBar

__all__ = ["EventHistory", "Field", "StatusBar", "StepsTable", "WorkflowsTable"]

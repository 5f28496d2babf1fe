"""Widgets of the operator console."""

from tui.widgets.jobs import EventHistory, JobsTable
from tui.widgets.status import StatusBar

__all__ = ["EventHistory", "JobsTable", "StatusBar"]

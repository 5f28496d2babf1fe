"""Screens of the operator console."""

from tui.screens.help import HelpScreen
from tui.screens.jobs import JobsScreen

__all__ = ["HelpScreen", "JobsScreen"]

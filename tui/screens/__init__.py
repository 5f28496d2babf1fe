"""Screens of the operator console."""

from tui.screens.confirm import ConfirmScreen
from tui.screens.help import HelpScreen
from tui.screens.jobs import JobsScreen
from tui.screens.start import StartWorkflowScreen
from tui.screens.symbol import SymbolScreen

__all__ = ["ConfirmScreen", "HelpScreen", "JobsScreen", "StartWorkflowScreen", "SymbolScreen"]

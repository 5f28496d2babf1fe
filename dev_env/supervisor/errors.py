"""Errors of the supervisor and the stack; each ``str()`` is one line an operator can act on."""

from __future__ import annotations


class SupervisorError(RuntimeError):
    """The supervisor cannot do what was asked."""


class StackRunningError(SupervisorError):
    """A stack already runs on this data dir."""


class ServiceStartError(SupervisorError):
    """A service did not become healthy."""


class StackStartError(SupervisorError):
    """The stack could not be brought up."""

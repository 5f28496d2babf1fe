"""Orchestration: commands, the event log and (later) workflows folded from it."""

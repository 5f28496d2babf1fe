"""Checking what the operator typed before anything is sent, with the platform's own rules.

Workflow parameters go through the same parsers and :meth:`WorkflowDef.validate` that the
queue-manager applies, so a form that passes here is not rejected for its parameters there.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from streamforge.orchestration.params import InvalidParam, ParamType, parse_param
from streamforge.orchestration.workflows import WorkflowDef
from streamforge.schemas.fields import QueueId

#: How a parameter's field names it in an ``InvalidParam``.
PARAM_PREFIX = "params."


@dataclass(frozen=True)
class Checked:
    """The canonical parameters, or what is wrong with each field (by parameter name)."""

    values: dict[str, Any] | None
    errors: dict[str, str] = field(default_factory=dict)


def check_params(definition: WorkflowDef, given: Mapping[str, str]) -> Checked:
    """Check the non-empty texts of ``given`` as parameters of ``definition``: each field on
    its own, then the whole (required parameters, the range) with ``definition.validate``."""
    errors: dict[str, str] = {}
    for name, spec in definition.params.items():
        if name in given:
            try:
                parse_param(f"{PARAM_PREFIX}{name}", spec.type, given[name])
            except InvalidParam as exc:
                errors[name] = exc.reason
        elif spec.required:
            errors[name] = "required"
    if errors:
        return Checked(None, errors)
    try:
        return Checked(definition.validate(given))
    except InvalidParam as exc:
        return Checked(None, {exc.field.removeprefix(PARAM_PREFIX): exc.reason})


def check_queue_id(text: str) -> str | None:
    """Why ``text`` cannot be a new workflow's queue id, or ``None`` if it can."""
    try:
        msgspec.convert(text, QueueId)
    except msgspec.ValidationError:
        return "letters, digits, '.', '_' and '-' (up to 128), starting with a letter or digit"
    return "a workflow needs a queue id of its own, not '*'" if text == "*" else None


def check_symbol(text: str, watched: Collection[str], *, watching: bool) -> str:
    """The canonical symbol of ``text`` to add to (``watching``) or remove from ``watched``;
    raises :class:`ValueError` with the reason if that cannot be done."""
    try:
        symbol: str = parse_param("symbol", ParamType.SYMBOL, text)
    except InvalidParam as exc:
        raise ValueError(exc.reason) from None
    if watching and symbol in watched:
        raise ValueError(f"{symbol} is watched already")
    if not watching and symbol not in watched:
        raise ValueError(f"{symbol} is not watched")
    return symbol

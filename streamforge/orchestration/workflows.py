"""Workflow definitions: small DAGs of service steps, built in or read from a YAML file.

A definitions file (the built-in one is ``builtin_workflows.yaml`` beside this module)::

    version: 1
    workflows:
      backfill:
        description: Load a symbol's history and persist it.
        params:
          symbol: {type: symbol}                  # required: no default
          interval: {type: interval, default: 1m}
          from: {type: time}
          to: {type: time}
        range: [from, to]                         # from < to, checked on submit
        steps:
          load:
            service: loader-history               # a `streamforge run` service
            args: {symbol: "{symbol}", from: "{from}", to: "{to}"}
            deadline_s: 120                       # no event for this long: killed, retried
            retries: 3                            # attempts after the first
          persist:
            service: store-connector
            args: {mode: workflow}
            needs: []                             # steps that must succeed first

``args`` become ``--name value`` options (``true``: a bare flag) with ``{param}`` replaced by
the parameter's canonical value. A submitted workflow carries its planned steps in its
``workflow_submitted`` event, so a restarted queue-manager runs it as submitted even if the
definitions changed meanwhile.
"""

from __future__ import annotations

import re
import string
import uuid
from collections.abc import Collection, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal

import msgspec

from streamforge.orchestration.params import (
    InvalidParam,
    ParamType,
    parse_param,
    render_param,
)

_NAME = re.compile(r"[a-z][a-z0-9-]{0,39}").fullmatch
BUILTIN_FILE = "builtin_workflows.yaml"

PositiveSeconds = Annotated[float, msgspec.Meta(gt=0)]


class DefinitionError(ValueError):
    """A definitions file is malformed; the message says where."""


class ParamDef(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One parameter: its type, and a default unless it is required."""

    type: ParamType
    default: Any = msgspec.UNSET
    help: str = ""

    @property
    def required(self) -> bool:
        """Whether a submission must give this parameter."""
        return self.default is msgspec.UNSET


class StepDef(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One step: the service it runs, its options, what it waits for, its self-healing."""

    service: str
    args: dict[str, str | bool | int | float] = msgspec.field(default_factory=dict)
    needs: list[str] = msgspec.field(default_factory=list)
    deadline_s: PositiveSeconds = 60.0
    retries: Annotated[int, msgspec.Meta(ge=0, le=100)] = 3
    backoff_s: PositiveSeconds = 2.0


class PlannedStep(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A step as submitted: its service options rendered from the parameters."""

    name: str
    service: str
    args: list[str]
    needs: list[str] = msgspec.field(default_factory=list)
    deadline_s: float = 60.0
    retries: int = 3
    backoff_s: float = 2.0

    def backoff(self, failures: int) -> float:
        """Seconds to wait before the attempt after ``failures`` failed ones (doubling,
        at most 60 s)."""
        return float(min(self.backoff_s * 2 ** max(failures - 1, 0), 60.0))


class WorkflowDef(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A workflow: parameters and a DAG of steps."""

    steps: dict[str, StepDef]
    description: str = ""
    params: dict[str, ParamDef] = msgspec.field(default_factory=dict)
    range: tuple[str, str] | None = None

    def validate(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Canonical parameters from a submission; :class:`InvalidParam` names what is wrong."""
        unknown = sorted(set(given) - set(self.params))
        if unknown:
            known = ", ".join(self.params) or "none"
            raise InvalidParam(f"params.{unknown[0]}", f"unknown parameter (known: {known})")
        values: dict[str, Any] = {}
        for name, spec in self.params.items():
            raw = given.get(name, spec.default)
            if raw is msgspec.UNSET or raw is None:
                raise InvalidParam(f"params.{name}", "required")
            values[name] = parse_param(f"params.{name}", spec.type, raw)
        if self.range is not None:
            low, high = self.range
            if values[low] >= values[high]:
                raise InvalidParam(
                    f"params.{low}", f"{low} must be before {high} (the range is [{low}, {high}))"
                )
        return values

    def plan(self, values: Mapping[str, Any]) -> list[PlannedStep]:
        """The steps, in a valid start order, with their options rendered from ``values``."""
        rendered = {name: render_param(value) for name, value in values.items()}
        return [
            PlannedStep(
                name=name,
                service=step.service,
                args=_render_args(step.args, rendered),
                needs=list(step.needs),
                deadline_s=step.deadline_s,
                retries=step.retries,
                backoff_s=step.backoff_s,
            )
            for name, step in _topological(self.steps)
        ]


class _DefinitionsFile(msgspec.Struct, forbid_unknown_fields=True):
    workflows: dict[str, WorkflowDef]
    version: Literal[1] = 1


def _render_args(
    args: Mapping[str, str | bool | int | float], values: Mapping[str, str]
) -> list[str]:
    rendered: list[str] = []
    for name, value in args.items():
        if value is True:
            rendered.append(f"--{name}")
        elif value is not False:
            text = value.format_map(values) if isinstance(value, str) else render_param(value)
            rendered += [f"--{name}", text]
    return rendered


def _topological(steps: Mapping[str, StepDef]) -> list[tuple[str, StepDef]]:
    """Steps ordered so that each comes after what it needs (ties in file order)."""
    ordered: list[tuple[str, StepDef]] = []
    placed: set[str] = set()
    while len(ordered) < len(steps):
        ready = [
            (name, step)
            for name, step in steps.items()
            if name not in placed and set(step.needs) <= placed
        ]
        if not ready:
            cycle = sorted(set(steps) - placed)
            raise DefinitionError(f"steps {', '.join(cycle)} need each other (a cycle)")
        ordered += ready
        placed.update(name for name, _ in ready)
    return ordered


def _check(name: str, workflow: WorkflowDef, services: Collection[str] | None) -> None:
    where = f"workflow {name!r}"
    if not _NAME(name):
        raise DefinitionError(f"{where}: names are lower-case letters, digits and '-'")
    if not workflow.steps:
        raise DefinitionError(f"{where}: has no steps")
    for param in workflow.params:
        if not param.isidentifier():
            raise DefinitionError(f"{where}: parameter {param!r} is not an identifier")
    if workflow.range is not None:
        for param in workflow.range:
            spec = workflow.params.get(param)
            if spec is None or spec.type is not ParamType.TIME:
                raise DefinitionError(f"{where}: range names {param!r}, not a time parameter")
    for step_name, step in workflow.steps.items():
        at = f"{where}, step {step_name!r}"
        if not _NAME(step_name):
            raise DefinitionError(f"{at}: names are lower-case letters, digits and '-'")
        if services is not None and step.service not in services:
            raise DefinitionError(
                f"{at}: unknown service {step.service!r} (known: {', '.join(sorted(services))})"
            )
        for needed in step.needs:
            if needed not in workflow.steps or needed == step_name:
                raise DefinitionError(f"{at}: needs unknown step {needed!r}")
        for arg, value in step.args.items():
            if not _NAME(arg):
                raise DefinitionError(f"{at}: option {arg!r} is not a valid option name")
            if isinstance(value, str):
                for _, field, _, _ in string.Formatter().parse(value):
                    if field is not None and field not in workflow.params:
                        raise DefinitionError(f"{at}: option {arg!r} uses unknown {{{field}}}")
    _topological(workflow.steps)


def parse_definitions(
    text: str | bytes, *, source: str, services: Collection[str] | None = None
) -> dict[str, WorkflowDef]:
    """Workflows of a YAML definitions file; :class:`DefinitionError` says what is wrong.

    ``services``, when given, are the service names a step may run.
    """
    try:
        parsed = msgspec.yaml.decode(text, type=_DefinitionsFile)
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise DefinitionError(f"{source}: {exc}") from None
    for name, workflow in parsed.workflows.items():
        try:
            _check(name, workflow, services)
        except DefinitionError as exc:
            raise DefinitionError(f"{source}: {exc}") from None
    return parsed.workflows


def new_queue_id(workflow: str, hint: str = "") -> str:
    """A fresh queue id for a run of ``workflow``: ``<workflow>[-<hint>]-<8 hex digits>``."""
    suffix = uuid.uuid4().hex[:8]
    return f"{workflow}-{hint.lower()}-{suffix}" if hint else f"{workflow}-{suffix}"


class WorkflowCatalog:
    """The workflows a queue-manager offers: the built-in ones, then any from files (a file
    may redefine a built-in workflow)."""

    def __init__(self, workflows: Mapping[str, WorkflowDef]) -> None:
        self._workflows = dict(workflows)

    @classmethod
    def load(
        cls, files: Iterable[Path] = (), *, services: Collection[str] | None = None
    ) -> WorkflowCatalog:
        """The built-in workflows plus those of ``files``, in order."""
        builtin = resources.files(__package__).joinpath(BUILTIN_FILE).read_text()
        workflows = parse_definitions(builtin, source=BUILTIN_FILE, services=services)
        for path in files:
            try:
                text = path.read_text()
            except OSError as exc:
                raise DefinitionError(f"{path}: cannot read: {exc.strerror}") from None
            workflows.update(parse_definitions(text, source=str(path), services=services))
        return cls(workflows)

    def get(self, name: str) -> WorkflowDef | None:
        """The workflow called ``name``, if defined."""
        return self._workflows.get(name)

    def names(self) -> list[str]:
        """Names of every workflow, sorted."""
        return sorted(self._workflows)

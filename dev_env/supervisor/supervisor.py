"""The process supervisor behind ``streamforge up``.

A :class:`Supervisor` starts named processes (:class:`ProcessSpec`), probes their health,
restarts one that exits with exponential backoff (giving up on one that keeps failing
quickly), and stops them all in the reverse order of their start. Each process leads a
process group of its own, and stopping a service signals its whole group, so nothing it
started is left behind. Every change is written to the state file that ``streamforge status``
reads.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from dev_env.kafka.process import start_time
from dev_env.supervisor.errors import ServiceStartError
from dev_env.supervisor.process import launch, signal_group, stop_child
from dev_env.supervisor.spec import ProcessSpec, RestartPolicy
from dev_env.supervisor.state import (
    Phase,
    ServiceRecord,
    ServiceState,
    SupervisorState,
    write_state,
)
from streamforge.orchestration.local_runner import describe_exit

_WAIT_POLL_S = 0.1


@dataclass
class _Service:
    spec: ProcessSpec
    record: ServiceRecord
    process: asyncio.subprocess.Process | None = None
    task: asyncio.Task[None] | None = field(default=None, repr=False)


class Supervisor:
    """Starts, watches, restarts and stops named processes; see the module docstring.

    Args:
        log_dir: Each service's output is appended to ``<log_dir>/<name>.log``.
        state_file: Rewritten atomically on every change.
        policy: When to restart and when to give up.
        health_interval_s: Seconds between two probes of a service.
        on_change: Called with a service's record whenever its state changes.
    """

    def __init__(
        self,
        log_dir: Path,
        state_file: Path,
        *,
        policy: RestartPolicy | None = None,
        health_interval_s: float = 1.0,
        on_change: Callable[[ServiceRecord], None] | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.state_file = state_file
        self.policy = policy or RestartPolicy()
        self.health_interval_s = health_interval_s
        self._on_change = on_change or (lambda _: None)
        self._services: dict[str, _Service] = {}
        self._external: dict[str, ServiceRecord] = {}
        self._stopping = asyncio.Event()
        self._phase = Phase.STARTING
        self._error = ""
        self._details: dict[str, str] = {}
        self._started_at = time.time()
        self._pid_started = start_time(os.getpid())

    # -- services ---------------------------------------------------------------------------

    def start(self, spec: ProcessSpec) -> None:
        """Start ``spec`` and keep it running until :meth:`stop` (needs a running loop)."""
        if spec.name in self._services or spec.name in self._external:
            raise ValueError(f"a service named {spec.name!r} is supervised already")
        record = ServiceRecord(
            name=spec.name,
            state=ServiceState.STARTING,
            health=spec.health.target if spec.health else None,
            log=str(self.log_path(spec.name)),
        )
        service = _Service(spec, record)
        self._services[spec.name] = service
        service.task = asyncio.create_task(self._supervise(service), name=f"supervise {spec.name}")
        self._write()

    async def wait_healthy(self, name: str, timeout_s: float | None = None) -> None:
        """Return once ``name`` is healthy; raise :class:`ServiceStartError` if it fails or
        takes longer than ``timeout_s`` (default: its spec's ``ready_timeout_s``)."""
        service = self._services[name]
        timeout = service.spec.ready_timeout_s if timeout_s is None else timeout_s
        deadline = time.monotonic() + timeout
        record = service.record
        while record.state is not ServiceState.HEALTHY:
            if record.state is ServiceState.FAILED:
                raise ServiceStartError(f"{name} failed: {record.reason}; see {record.log}")
            if time.monotonic() >= deadline:
                raise ServiceStartError(
                    f"{name} was not healthy within {timeout:g}s; see {record.log}"
                )
            await asyncio.sleep(_WAIT_POLL_S)

    def names(self) -> list[str]:
        """The supervised services, in start order."""
        return list(self._services)

    def log_path(self, name: str) -> Path:
        """Where the output of service ``name`` goes."""
        return self.log_dir / f"{name}.log"

    def records(self) -> list[ServiceRecord]:
        """Every service: the supervised processes in start order, then the reported ones."""
        return [s.record for s in self._services.values()] + list(self._external.values())

    def report(self, records: Sequence[ServiceRecord]) -> None:
        """Show ``records`` beside the supervised processes (services that another process
        runs and this one only reports on); they replace the previous report."""
        previous = self._external
        self._external = {record.name: record for record in records}
        changed = False
        for record in records:
            old = previous.get(record.name)
            if old is None or old.state is not record.state:
                self._on_change(record)
            changed |= old != record
        if changed or previous.keys() != self._external.keys():
            self._write()

    # -- the stack as a whole ---------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        """Where the whole stack stands."""
        return self._phase

    def set_phase(self, phase: Phase, error: str = "") -> None:
        """Record where the whole stack stands (``error``: why it failed)."""
        self._phase = phase
        self._error = error or self._error
        self._write()

    def set_details(self, **details: str) -> None:
        """Record facts an operator needs (addresses, directories ...)."""
        self._details.update(details)
        self._write()

    def snapshot(self) -> SupervisorState:
        """The state as written to the state file."""
        return SupervisorState(
            pid=os.getpid(),
            pid_started=self._pid_started,
            started_at=self._started_at,
            updated_at=time.time(),
            phase=self._phase,
            error=self._error,
            services=self.records(),
            details=dict(self._details),
        )

    async def stop(self) -> None:
        """Stop every service, the last started first, and wait until all of them are gone."""
        self._stopping.set()
        tasks = [s.task for s in self._services.values() if s.task is not None]
        await asyncio.gather(*tasks, return_exceptions=True)
        for service in reversed(self._services.values()):
            process = service.process
            if process is not None and process.returncode is None:
                code = await stop_child(process, service.spec.stop_grace_s)
                service.record.exit_code = code
            if service.record.state is not ServiceState.FAILED:
                self._set(service, ServiceState.STOPPED, reason="")
        for record in self._external.values():
            if record.state is not ServiceState.FAILED:
                record.state = ServiceState.STOPPED
        if self._phase is not Phase.FAILED:
            self._phase = Phase.STOPPED
        self._write()

    # -- supervision ------------------------------------------------------------------------

    async def _supervise(self, service: _Service) -> None:
        spec, record = service.spec, service.record
        quick_failures = 0
        while not self._stopping.is_set():
            launched = time.monotonic()
            try:
                process = await launch(spec.argv, spec.env, self.log_path(spec.name))
            except OSError as exc:
                self._set(service, ServiceState.FAILED, reason=f"cannot start: {exc}")
                return
            service.process = process
            record.pid = process.pid
            record.pid_started = start_time(process.pid)
            record.started_at = time.time()
            running = ServiceState.HEALTHY if spec.health is None else ServiceState.STARTING
            if not self._set(service, running, reason=""):
                self._write()
            code = await self._watch(service, process)
            if code is None:
                return  # stopping: stop() ends the process
            signal_group(process.pid, signal.SIGKILL)  # anything it left in its group
            record.exit_code = code
            quick = time.monotonic() - launched < self.policy.quick_failure_s
            quick_failures = quick_failures + 1 if quick else 0
            ended = describe_exit(code)
            if quick_failures >= self.policy.max_quick_failures:
                reason = f"{ended}; gave up after {quick_failures} quick failures"
                self._set(service, ServiceState.FAILED, reason=reason)
                return
            delay = self.policy.backoff(max(quick_failures, 1))
            self._set(service, ServiceState.RESTARTING, reason=f"{ended}; restart in {delay:g}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
                return
            record.restarts += 1

    async def _watch(self, service: _Service, process: asyncio.subprocess.Process) -> int | None:
        """Probe the process until it exits (its exit code) or the supervisor stops (None)."""
        health = service.spec.health
        exited = asyncio.ensure_future(process.wait())
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            while True:
                if health is not None:
                    healthy = await health.check()
                    if process.returncode is None and not self._stopping.is_set():
                        self._probed(service, healthy)
                done, _ = await asyncio.wait(
                    {exited, stopping},
                    timeout=self.health_interval_s,
                    return_when=asyncio.FIRST_COMPLETED,
                )
                if stopping in done:
                    return None
                if exited in done:
                    return exited.result()
        finally:
            exited.cancel()
            stopping.cancel()

    def _probed(self, service: _Service, healthy: bool) -> None:
        if healthy:
            self._set(service, ServiceState.HEALTHY)
        elif service.record.state is not ServiceState.STARTING:
            self._set(service, ServiceState.UNHEALTHY)

    def _set(self, service: _Service, state: ServiceState, *, reason: str | None = None) -> bool:
        """Update a record; report and write it if it changed (whether it did)."""
        record = service.record
        changed = record.state is not state
        record.state = state
        if reason is not None:
            changed |= record.reason != reason
            record.reason = reason
        if changed:
            self._on_change(record)
            self._write()
        return changed

    def _write(self) -> None:
        write_state(self.state_file, self.snapshot())

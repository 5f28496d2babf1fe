"""The process supervisor: restarts with backoff, gives up, stops everything, records its state."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from dev_env.kafka.net import free_ports
from dev_env.kafka.process import process_alive, start_time
from dev_env.supervisor import (
    DownResult,
    HttpHealth,
    Phase,
    ProcessSpec,
    RestartPolicy,
    ServiceRecord,
    ServiceStartError,
    ServiceState,
    StackLock,
    StackPaths,
    StackRunningError,
    StatusLines,
    Supervisor,
    SupervisorState,
    left_running,
    read_state,
    run_stack,
    running_stack,
    take_down,
)
from dev_env.supervisor.state import write_state

FAST = RestartPolicy(
    initial_backoff_s=0.2, max_backoff_s=0.8, quick_failure_s=5.0, max_quick_failures=4
)


def python(code: str) -> tuple[str, ...]:
    return (sys.executable, "-c", code)


class Changes:
    """Every state change a supervisor reports, with when it happened."""

    def __init__(self) -> None:
        self.seen: list[tuple[float, str, ServiceState, str, int | None]] = []

    def __call__(self, record: ServiceRecord) -> None:
        self.seen.append((time.monotonic(), record.name, record.state, record.reason, record.pid))

    def of(self, name: str, state: ServiceState) -> list[tuple[float, str, int | None]]:
        return [(t, reason, pid) for t, n, s, reason, pid in self.seen if (n, s) == (name, state)]


def supervisor(tmp_path: Path, changes: Changes, policy: RestartPolicy = FAST) -> Supervisor:
    return Supervisor(
        tmp_path / "logs",
        tmp_path / "up" / "state.json",
        policy=policy,
        health_interval_s=0.1,
        on_change=changes,
    )


async def until(check: Callable[[], object], timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.05)


def gone(pid: int) -> bool:
    return not Path(f"/proc/{pid}").exists() or not process_alive(pid, None)


async def test_a_crashing_child_is_restarted_with_growing_backoff_then_given_up(
    tmp_path: Path,
) -> None:
    changes = Changes()
    sup = supervisor(tmp_path, changes)
    sup.start(ProcessSpec("crasher", python("import sys; sys.exit(3)")))

    await until(lambda: sup.records()[0].state is ServiceState.FAILED)
    with pytest.raises(ServiceStartError, match=r"crasher failed: exited with code 3; gave up"):
        await sup.wait_healthy("crasher")

    restarts = changes.of("crasher", ServiceState.RESTARTING)
    assert [reason for _, reason, _ in restarts] == [
        "exited with code 3; restart in 0.2s",
        "exited with code 3; restart in 0.4s",
        "exited with code 3; restart in 0.8s",
    ]
    launches = [t for t, _, pid in changes.of("crasher", ServiceState.HEALTHY)]
    assert len(launches) == 4  # no probe: healthy as soon as it runs
    gaps = [b - a for a, b in itertools.pairwise(launches)]
    assert gaps[0] >= 0.2 and gaps[1] >= 0.4 and gaps[2] >= 0.8
    record = sup.records()[0]
    assert (record.state, record.restarts, record.exit_code) == (ServiceState.FAILED, 3, 3)
    assert record.reason == "exited with code 3; gave up after 4 quick failures"
    await sup.stop()
    assert sup.records()[0].state is ServiceState.FAILED


async def test_a_child_that_crashes_once_runs_again_under_a_new_pid(tmp_path: Path) -> None:
    marker = tmp_path / "crashed-once"
    code = (
        "import pathlib, sys, time\n"
        f"marker = pathlib.Path({str(marker)!r})\n"
        "if not marker.exists():\n"
        "    marker.touch(); sys.exit(1)\n"
        "time.sleep(600)\n"
    )
    changes = Changes()
    sup = supervisor(tmp_path, changes)
    sup.start(ProcessSpec("flaky", python(code)))
    try:
        await until(lambda: sup.records()[0].restarts == 1)
        await sup.wait_healthy("flaky", timeout_s=10)
        pids = [pid for _, _, pid in changes.of("flaky", ServiceState.HEALTHY)]
        assert len(set(pids)) == 2
        record = sup.records()[0]
        assert (record.state, record.pid, record.exit_code) == (ServiceState.HEALTHY, pids[-1], 1)
    finally:
        await sup.stop()
    await until(lambda: gone(pids[-1]), 5)


async def test_stop_ends_every_process_and_what_they_started_in_reverse_order(
    tmp_path: Path,
) -> None:
    child_pid = tmp_path / "grandchild.pid"
    ignoring = tmp_path / "ignoring"
    stubborn = python(
        "import pathlib, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"pathlib.Path({str(ignoring)!r}).touch()\n"
        "time.sleep(600)\n"
    )
    # The shell leaves a grandchild in its process group: stopping the service must reach it.
    parent = ("/bin/sh", "-c", f"sleep 600 & echo $! > {child_pid}; wait")
    changes = Changes()
    sup = supervisor(tmp_path, changes)
    sup.start(ProcessSpec("first", python("import time; time.sleep(600)")))
    sup.start(ProcessSpec("stubborn", stubborn, stop_grace_s=0.5))
    sup.start(ProcessSpec("parent", parent))
    for name in ("first", "stubborn", "parent"):
        await sup.wait_healthy(name)
    await until(lambda: ignoring.exists() and child_pid.exists() and child_pid.read_text())
    pids = [record.pid for record in sup.records()]
    grandchild = int(child_pid.read_text())

    await sup.stop()

    for pid in (*pids, grandchild):
        assert pid is not None
        await until(lambda pid=pid: gone(pid), 5)
    stopped = [name for _, name, state, _, _ in changes.seen if state is ServiceState.STOPPED]
    assert stopped == ["parent", "stubborn", "first"]
    assert [r.exit_code for r in sup.records()] == [-15, -9, -15]


async def test_state_file_records_every_service(tmp_path: Path) -> None:
    port, closed = free_ports(2)
    server = python(f"import http.server as h; h.test(h.SimpleHTTPRequestHandler, port={port})")
    changes = Changes()
    sup = supervisor(tmp_path, changes)
    sup.set_details(data_dir=str(tmp_path))
    sup.start(ProcessSpec("web", server, health=HttpHealth(f"http://127.0.0.1:{port}/")))
    sup.start(ProcessSpec("mute", python("import time; time.sleep(600)"),
                          health=HttpHealth(f"http://127.0.0.1:{closed}/")))  # fmt: skip
    sup.report([ServiceRecord(name="step", kind="step", state=ServiceState.HEALTHY, pid=1)])
    try:
        await sup.wait_healthy("web", timeout_s=20)
        with pytest.raises(ServiceStartError, match=r"mute was not healthy within 0\.5s"):
            await sup.wait_healthy("mute", timeout_s=0.5)
        sup.set_phase(Phase.RUNNING)

        raw = json.loads((tmp_path / "up" / "state.json").read_text())
        state = read_state(tmp_path / "up" / "state.json")
        assert state is not None
        assert (state.pid, state.phase, state.details) == (
            os.getpid(),
            Phase.RUNNING,
            {"data_dir": str(tmp_path)},
        )
        web, mute, step = state.services
        assert (web.name, web.state, web.health, web.restarts) == (
            "web",
            ServiceState.HEALTHY,
            f"http://127.0.0.1:{port}/",
            0,
        )
        assert web.log == str(tmp_path / "logs" / "web.log")
        assert web.pid is not None and process_alive(web.pid, web.pid_started)
        assert web.started_at is not None and web.started_at <= time.time()
        assert mute.state is ServiceState.STARTING
        assert (step.name, step.kind, step.state) == ("step", "step", ServiceState.HEALTHY)
        assert not state.healthy  # mute is not
        assert raw["services"][0]["state"] == "healthy"
        assert "starting" in (tmp_path / "logs" / "web.log").read_text()
    finally:
        await sup.stop()
    state = read_state(tmp_path / "up" / "state.json")
    assert state is not None and state.phase is Phase.STOPPED
    assert {s.state for s in state.services} == {ServiceState.STOPPED}


async def test_a_healthy_service_that_stops_answering_turns_unhealthy(tmp_path: Path) -> None:
    port = free_ports(1)[0]
    switch = tmp_path / "answer"
    switch.touch()
    server = python(
        "import http.server as h, pathlib\n"
        "class H(h.BaseHTTPRequestHandler):\n"
        "    def do_GET(self):\n"
        f"        self.send_response(200 if pathlib.Path({str(switch)!r}).exists() else 503)\n"
        "        self.end_headers()\n"
        f"h.HTTPServer(('127.0.0.1', {port}), H).serve_forever()\n"
    )
    changes = Changes()
    sup = supervisor(tmp_path, changes)
    sup.start(ProcessSpec("web", server, health=HttpHealth(f"http://127.0.0.1:{port}/")))
    try:
        await sup.wait_healthy("web", timeout_s=20)
        switch.unlink()
        await until(lambda: sup.records()[0].state is ServiceState.UNHEALTHY)
        switch.touch()
        await sup.wait_healthy("web", timeout_s=20)
    finally:
        await sup.stop()


def test_one_supervisor_per_data_dir(tmp_path: Path) -> None:
    paths = StackPaths(tmp_path)
    with StackLock(paths):
        assert StackLock(paths).holder() == os.getpid()
        with pytest.raises(StackRunningError, match=f"a stack already runs on {tmp_path}"):
            StackLock(paths).acquire()
    assert StackLock(paths).holder() is None
    StackLock(paths).check_free()


def test_backoff_doubles_up_to_its_cap() -> None:
    policy = RestartPolicy(initial_backoff_s=1, max_backoff_s=10)
    assert [policy.backoff(n) for n in range(1, 7)] == [1, 2, 4, 8, 10, 10]


def test_down_stops_what_a_dead_supervisor_left_running(tmp_path: Path) -> None:
    paths = StackPaths(tmp_path)
    left = [subprocess.Popen(["sleep", "600"], start_new_session=True) for _ in range(2)]
    dead = subprocess.Popen(["true"])
    dead.wait()
    services = [
        ServiceRecord(
            name=name, state=ServiceState.HEALTHY, pid=p.pid, pid_started=start_time(p.pid)
        )
        for name, p in zip(("a", "b"), left, strict=True)
    ]
    now = time.time()
    write_state(
        paths.state_file,
        SupervisorState(
            pid=dead.pid,
            pid_started=None,
            started_at=now,
            updated_at=now,
            phase=Phase.RUNNING,
            services=services,
        ),
    )
    assert running_stack(paths) is None
    assert left_running(paths) == ["a", "b"]

    assert take_down(paths) == DownResult(None, ["a", "b"], [])
    for process in left:
        assert gone(process.pid)
        process.wait()


class FakeStack:
    """What :func:`run_stack` needs of a stack, recording the calls."""

    def __init__(self, tmp_path: Path, start_s: float = 0.0, error: str = "") -> None:
        self.paths = StackPaths(tmp_path)
        self.env = dict(os.environ)
        self.start_s = start_s
        self.error = error
        self.calls: list[str] = []

    async def start(self) -> None:
        self.calls.append("start")
        await asyncio.sleep(self.start_s)
        if self.error:
            raise ServiceStartError(self.error)
        self.calls.append("started")

    async def stop(self) -> None:
        self.calls.append("stop")


async def test_quitting_the_console_stops_the_stack(tmp_path: Path) -> None:
    stack = FakeStack(tmp_path)
    console = python("pass")

    await run_stack(stack, StatusLines(), console)

    assert stack.calls == ["start", "started", "stop"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
async def test_a_stop_signal_ends_the_console_and_stops_the_stack(
    tmp_path: Path, signum: signal.Signals
) -> None:
    stack = FakeStack(tmp_path)
    ready = tmp_path / "console-ready"
    console = python(f"import pathlib, time; pathlib.Path({str(ready)!r}).touch(); time.sleep(600)")
    running = asyncio.create_task(run_stack(stack, StatusLines(), console))
    await until(ready.exists)

    os.kill(os.getpid(), signum)

    await asyncio.wait_for(running, 15)
    assert stack.calls == ["start", "started", "stop"]


async def test_a_stop_signal_while_starting_stops_what_was_started(tmp_path: Path) -> None:
    stack = FakeStack(tmp_path, start_s=600)
    running = asyncio.create_task(run_stack(stack, StatusLines()))
    await until(lambda: stack.calls == ["start"])

    os.kill(os.getpid(), signal.SIGINT)

    await asyncio.wait_for(running, 15)
    assert stack.calls == ["start", "stop"]


async def test_a_failed_start_is_raised_once_the_stack_is_stopped(tmp_path: Path) -> None:
    stack = FakeStack(tmp_path, error="queue-manager failed")

    with pytest.raises(ServiceStartError, match="queue-manager failed"):
        await run_stack(stack, StatusLines())

    assert stack.calls == ["start", "stop"]

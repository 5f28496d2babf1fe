"""``streamforge up --detach``, ``status`` and ``down``: the whole stack, as real processes."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pytest
from click.testing import CliRunner

from dev_env.kafka import shared_dist_env
from dev_env.kafka.net import free_ports
from dev_env.kafka.process import process_alive
from dev_env.supervisor import (
    Phase,
    StackPaths,
    SupervisorState,
    read_state,
    running_stack,
    take_down,
)
from streamforge.cli.main import cli
from streamforge.config import load_settings
from streamforge.orchestration.client import ControlClient
from streamforge.orchestration.local_runner import ref_process
from streamforge.schemas import Event, EventName
from streamforge.storage import RecordKind, open_store

SYMBOL = "BTCUSDT"


def streamforge(
    env: dict[str, str], *args: str, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "streamforge", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    """The stack's data dir; whatever a failed test leaves running there is taken down."""
    data_dir = tmp_path / "stack"
    yield data_dir
    take_down(StackPaths(data_dir))


def env_for(bootstrap: str) -> dict[str, str]:
    env = shared_dist_env()  # a broker of our own downloads Kafka once per machine
    env["STREAMFORGE_KAFKA_BOOTSTRAP"] = bootstrap
    env["STREAMFORGE_TOPIC_PREFIX"] = f"t{uuid.uuid4().hex[:8]}."
    return env


def status(env: dict[str, str], data_dir: Path) -> tuple[int, dict[str, Any]]:
    result = streamforge(env, "status", "--data-dir", str(data_dir), "--json")
    return result.returncode, json.loads(result.stdout)


def up_detached(env: dict[str, str], data_dir: Path) -> None:
    """``up --detach``: it returns once every service is healthy."""
    began = time.monotonic()
    result = streamforge(env, "up", "--detach", "--data-dir", str(data_dir), "--symbols", SYMBOL)
    took = time.monotonic() - began
    assert result.returncode == 0, result.stderr + (data_dir / "logs" / "up.log").read_text()
    print(f"up --detach took {took:.1f}s")
    assert "stack up in" in result.stdout and "streamforge down --data-dir" in result.stdout


def assert_healthy(code: int, state: dict[str, Any]) -> None:
    assert code == 0, state
    assert (state["running"], state["healthy"], state["phase"]) == (True, True, "running")
    assert {s["state"] for s in state["services"]} == {"healthy"}


def step_pids(env: dict[str, str], queue_id: str) -> set[tuple[int, int]]:
    """Every process the queue-manager ran for the workflow, from its ``step_running`` refs."""
    settings = load_settings(env=env)
    events: list[Event] = []

    async def read() -> None:
        async with ControlClient(settings, from_beginning=True) as client:
            await client.replay(events.append)

    asyncio.run(read())
    refs = [
        e.payload["ref"]
        for e in events
        if e.event is EventName.STEP_RUNNING and e.queue_id == queue_id
    ]
    processes = {ref_process(ref) for ref in refs}
    assert None not in processes and processes
    return {p for p in processes if p is not None}


def processes_naming(text: str) -> list[int]:
    """Processes whose command line or environment holds ``text``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit() or int(proc.name) == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            try:
                if text.encode() in (proc / part).read_bytes():
                    found.append(int(proc.name))
                    break
            except OSError:
                continue
    return found


def assert_nothing_left(state: dict[str, Any], steps: set[tuple[int, int]], data_dir: Path) -> None:
    recorded = {(state["pid"], state["pid_started"])} | steps
    recorded |= {(s["pid"], s["pid_started"]) for s in state["services"]}
    for pid, started in recorded:
        assert not process_alive(pid, started), f"pid {pid} still runs"
    assert processes_naming(str(data_dir)) == []


def down(env: dict[str, str], data_dir: Path) -> None:
    result = streamforge(env, "down", "--data-dir", str(data_dir))
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("stack stopped\n")


def stored_trades(data_dir: Path, wait_s: float = 30) -> int:
    deadline = time.monotonic() + wait_s
    url = f"sqlite:///{data_dir / 'streamforge.db'}"
    while True:
        if (data_dir / "streamforge.db").exists():
            with open_store(url) as store:
                count = store.count(RecordKind.TRADES, SYMBOL)
            if count or time.monotonic() > deadline:
                return count
        elif time.monotonic() > deadline:
            return 0
        time.sleep(0.5)


@pytest.mark.kafka
def test_up_detach_status_down_on_the_configured_kafka(
    kafka_bootstrap: str, data_dir: Path
) -> None:
    env = env_for(kafka_bootstrap)

    up_detached(env, data_dir)
    code, state = status(env, data_dir)

    assert_healthy(code, state)
    services = {(s["name"], s["kind"]) for s in state["services"]}
    assert services == {
        ("simulator", "process"),
        ("queue-manager", "process"),
        ("loader-ws", "step"),
        ("store-connector", "step"),
    }
    assert state["details"]["kafka"] == kafka_bootstrap
    assert stored_trades(data_dir) > 0  # live data reaches the store under the data dir
    again = streamforge(env, "up", "--detach", "--data-dir", str(data_dir))
    assert again.returncode == 1
    assert f"a stack already runs on {data_dir}" in again.stderr
    steps = step_pids(env, state["details"]["workflow"])

    down(env, data_dir)

    assert_nothing_left(state, steps, data_dir)
    assert status(env, data_dir) == (
        3,
        {"running": False, "data_dir": str(data_dir), "left_running": []},
    )


@pytest.mark.kafka
def test_up_detach_starts_a_kafka_of_its_own_and_down_stops_it(data_dir: Path) -> None:
    env = env_for(f"127.0.0.1:{free_ports(1)[0]}")  # nothing answers there: a fresh machine

    up_detached(env, data_dir)
    running = running_stack(StackPaths(data_dir))
    assert running is not None
    state = msgspec.to_builtins(running)

    assert_healthy(0, {**state, "running": True, "healthy": running.healthy})
    kafka = state["services"][0]
    assert (kafka["name"], state["details"]["kafka_origin"]) == ("kafka", "started by this stack")
    assert (data_dir / "kafka" / "broker.json").exists()
    steps = step_pids(env, state["details"]["workflow"])

    down(env, data_dir)

    assert_nothing_left(state, steps, data_dir)


@pytest.mark.kafka
def test_up_in_the_foreground_restarts_a_crashed_service_and_ctrl_c_stops_all(
    kafka_bootstrap: str, data_dir: Path
) -> None:
    env = env_for(kafka_bootstrap)
    paths = StackPaths(data_dir)
    command = [sys.executable, "-m", "streamforge", "up", "--no-console"]
    with subprocess.Popen(
        [*command, "--data-dir", str(data_dir), "--symbols", SYMBOL],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    ) as up:
        state = until_state(paths, lambda s: s.healthy)
        simulator = next(s for s in state.services if s.name == "simulator")
        assert simulator.pid is not None
        os.kill(simulator.pid, signal.SIGKILL)
        restarted = until_state(
            paths,
            lambda s: (
                s.healthy and s.services[0].restarts == 1 and s.services[0].pid != simulator.pid
            ),
        )
        steps = step_pids(env, state.details["workflow"])

        os.killpg(up.pid, signal.SIGINT)  # Ctrl-C: the terminal signals its foreground group

        assert up.wait(120) == 0
        assert up.stdout is not None
        output = up.stdout.read()
    assert "simulator: restarting (killed by SIGKILL; restart in 1s)" in output
    assert output.endswith("stopped\n")
    assert_nothing_left(msgspec.to_builtins(restarted), steps, data_dir)


def until_state(
    paths: StackPaths, check: Callable[[SupervisorState], bool], wait_s: float = 120
) -> SupervisorState:
    deadline = time.monotonic() + wait_s
    while True:
        state = running_stack(paths)
        if state is not None and check(state):
            return state
        assert time.monotonic() < deadline, f"timed out; the stack is {state}"
        time.sleep(0.25)


def test_status_and_down_without_a_stack(tmp_path: Path) -> None:
    env = dict(os.environ)
    assert status(env, tmp_path) == (
        3,
        {"running": False, "data_dir": str(tmp_path), "left_running": []},
    )
    result = streamforge(env, "down", "--data-dir", str(tmp_path))
    assert (result.returncode, result.stdout) == (0, f"no stack is running on {tmp_path}\n")


def test_up_fails_clearly_when_the_configured_kafka_is_out_of_reach(tmp_path: Path) -> None:
    env = {"STREAMFORGE_KAFKA_BOOTSTRAP": "kafka.invalid:9092"}

    result = CliRunner().invoke(cli, ["up", "--no-console", "--data-dir", str(tmp_path)], env=env)

    assert result.exit_code == 1
    assert result.stderr == "Error: Kafka at kafka.invalid:9092 does not answer\n"
    state = read_state(StackPaths(tmp_path).state_file)
    assert state is not None
    assert (state.phase, state.error) == (
        Phase.FAILED,
        "Kafka at kafka.invalid:9092 does not answer",
    )


def test_up_refuses_bad_symbols(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["up", "--symbols", "BTCUSDT,b@d", "--data-dir", str(tmp_path)]
    )

    assert result.exit_code == 2
    assert "Invalid value for '--symbols': not a symbol" in result.stderr
    assert not tmp_path.joinpath("up").exists()


def test_the_headless_commands_do_not_load_the_console() -> None:
    code = "import sys, streamforge.cli.main; print('textual' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout == "False\n"

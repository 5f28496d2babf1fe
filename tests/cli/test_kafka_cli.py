"""``streamforge kafka start/stop`` against a real broker."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from dev_env.kafka import LocalKafka, shared_dist_env
from dev_env.kafka.net import kafka_answers
from streamforge.cli.kafka import kafka

READY = re.compile(r"kafka ready on 127\.0\.0\.1:(\d+)\n")


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "kafka"
    LocalKafka(tmp_path / "kafka").stop(missing_ok=True)


@pytest.mark.kafka
def test_start_detached_then_stop(data_dir: Path) -> None:
    runner = CliRunner()

    started = runner.invoke(
        kafka,
        ["start", "--detach", "--port", "0", "--data-dir", str(data_dir)],
        env=shared_dist_env(),
    )

    assert started.exit_code == 0, started.output
    ready = READY.fullmatch(started.stdout)
    assert ready is not None, started.stdout
    assert kafka_answers("127.0.0.1", int(ready[1]))
    state = LocalKafka(data_dir).running()
    assert state is not None
    assert os.getsid(state.pid) == state.pid  # its own session: it outlives the command

    stopped = runner.invoke(kafka, ["stop", "--data-dir", str(data_dir)])

    assert (stopped.exit_code, stopped.stdout) == (0, "kafka stopped\n")
    assert LocalKafka(data_dir).running() is None
    with pytest.raises(ProcessLookupError):
        os.kill(state.pid, 0)


def _sigterm_to_command(cli: subprocess.Popen[str]) -> None:
    cli.send_signal(signal.SIGTERM)


def _ctrl_c(cli: subprocess.Popen[str]) -> None:
    os.killpg(cli.pid, signal.SIGINT)  # a terminal's Ctrl-C reaches the JVM as well


def _stop_command(data_dir: Path) -> Callable[[subprocess.Popen[str]], None]:
    def stop(cli: subprocess.Popen[str]) -> None:
        assert CliRunner().invoke(kafka, ["stop", "--data-dir", str(data_dir)]).exit_code == 0

    return stop


@pytest.mark.kafka
@pytest.mark.parametrize("how", ["sigterm", "ctrl-c", "stop-command"])
def test_foreground_start_runs_until_stopped(data_dir: Path, how: str) -> None:
    interrupt = {"sigterm": _sigterm_to_command, "ctrl-c": _ctrl_c}.get(
        how, _stop_command(data_dir)
    )
    command = [sys.executable, "-c", "from streamforge.cli.kafka import kafka; kafka()"]
    args = ["start", "--port", "0", "--data-dir", str(data_dir)]
    with subprocess.Popen(
        [*command, *args],
        env=shared_dist_env(),
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    ) as cli:
        assert cli.stdout is not None
        assert READY.fullmatch(cli.stdout.readline())
        state = LocalKafka(data_dir).running()
        assert state is not None

        interrupt(cli)

        assert cli.wait(timeout=60) == 0
        assert cli.stdout.read() == "kafka stopped\n"
    assert LocalKafka(data_dir).running() is None
    with pytest.raises(ProcessLookupError):
        os.kill(state.pid, 0)


def test_stop_with_nothing_running_fails_with_one_line(data_dir: Path) -> None:
    result = CliRunner().invoke(kafka, ["stop", "--data-dir", str(data_dir)])

    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == f"Error: no Kafka broker is running for {data_dir}\n"

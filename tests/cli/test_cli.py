"""The headless CLI: every command answers --help, works, and fails with one clear line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from streamforge import __version__
from streamforge.cli.main import cli
from streamforge.config import Settings


@pytest.fixture
def kafka_env(kafka_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("STREAMFORGE_KAFKA_BOOTSTRAP", kafka_settings.kafka.bootstrap)
    monkeypatch.setenv("STREAMFORGE_TOPIC_PREFIX", kafka_settings.topic_prefix)
    return kafka_settings


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def one_line_error(result: Result) -> str:
    """A failure prints exactly one line on stderr and exits non-zero."""
    assert result.exit_code != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: ")
    return lines[0]


def test_version_says_whether_the_compiled_extension_is_in_use() -> None:
    first, second = invoke("version").output.strip().splitlines()
    assert first == f"streamforge {__version__}"
    assert second.startswith("compiled extension: ")
    turned_off = subprocess.run(
        [sys.executable, "-m", "streamforge", "version"],
        env={**os.environ, "STREAMFORGE_NATIVE": "0"},
        capture_output=True,
        text=True,
        check=True,
    )
    assert turned_off.stdout.splitlines()[1] == (
        "compiled extension: turned off (STREAMFORGE_NATIVE=0); the Python paths run"
    )


@pytest.mark.parametrize(
    "command",
    [
        [],
        ["run"],
        ["run", "dummy-service"],
        ["send"],
        ["events", "tail"],
        ["topics", "create"],
        ["topics", "list"],
        ["schema", "export"],
        ["version"],
    ],
)
def test_every_command_has_help(command: list[str]) -> None:
    result = invoke(*command, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_schema_export_writes_the_files(tmp_path: Path) -> None:
    result = invoke("schema", "export", "--out", str(tmp_path))
    assert result.exit_code == 0
    assert {p.name for p in tmp_path.iterdir()} >= {"command.schema.json", "book.schema.json"}
    assert len(result.output.splitlines()) == 8


def test_bad_setting_fails_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFORGE_KAFKA_BOOTSTRAP", "nowhere")
    line = one_line_error(invoke("topics", "list"))
    assert "STREAMFORGE_KAFKA_BOOTSTRAP" in line


def test_unreachable_kafka_is_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFORGE_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    line = one_line_error(invoke("topics", "list"))
    assert "cannot reach Kafka" in line


def usage_error(result: Result) -> str:
    """Usage errors show the usage, then one ``Error:`` line, and exit with 2."""
    assert result.exit_code == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1, result.output
    return errors[0]


def test_send_rejects_invalid_input_before_sending() -> None:
    bad_json = invoke("send", "ping", "--queue-id", "q", "--payload", "{")
    assert "--payload: not valid JSON" in usage_error(bad_json)
    not_object = invoke("send", "ping", "--queue-id", "q", "--payload", "[1]")
    assert "must be a JSON object" in usage_error(not_object)
    assert "'explode' is not one of" in usage_error(invoke("send", "explode", "--queue-id", "q"))
    assert "queue_id" in one_line_error(invoke("send", "ping", "--queue-id", "bad id"))


@pytest.mark.kafka
def test_topics_create_is_idempotent_and_list_shows_them(kafka_env: Settings) -> None:
    first = invoke("topics", "create", "--partitions", "2")
    assert first.exit_code == 0
    assert "16 created, 0 already present" in first.output
    again = invoke("topics", "create")
    assert "0 created, 16 already present" in again.output
    listed = invoke("topics", "list").output.split()
    assert kafka_env.topic("md.book") in listed
    assert kafka_env.topic("queue-events.dlq") in listed


@pytest.mark.kafka
def test_send_and_tail_events(kafka_env: Settings) -> None:
    invoke("topics", "create", "--partitions", "1")
    sent = invoke("send", "stop", "--queue-id", "q-cli", "--payload", '{"reason": "test"}')
    assert sent.exit_code == 0 and sent.output.startswith("sent stop ")
    no_pong = invoke("send", "ping", "--queue-id", "q-none", "--expect-pong", "--timeout", "1")
    assert "no pong from q-none within 1 s" in one_line_error(no_pong)


@pytest.mark.kafka
def test_ping_a_running_dummy_service_and_tail_its_events(kafka_env: Settings) -> None:
    invoke("topics", "create", "--partitions", "1")
    service = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamforge",
            "run",
            "dummy-service",
            "--queue-id",
            "q-svc",
            "--simulate-loading",
            "--duration",
            "60",
            "--loading-interval",
            "0.3",
        ],
        stderr=subprocess.DEVNULL,
    )
    try:
        tail = invoke(
            "events", "tail", "--queue-id", "q-svc", "--from-beginning", "--count", "2", "--json"
        )
        events = [json.loads(line) for line in tail.output.splitlines()]
        assert [e["event"] for e in events] == ["started", "loading"]
        pong = invoke(
            "send",
            "ping",
            "--queue-id",
            "q-svc",
            "--target",
            "dummy-service",
            "--expect-pong",
            "--timeout",
            "20",
        )
        assert pong.exit_code == 0, pong.output
        assert "pong from dummy-service__" in pong.output
        assert "state=running" in pong.output
        invoke("send", "stop", "--queue-id", "q-svc")
        assert service.wait(30) == 130
        pretty = invoke("events", "tail", "--queue-id", "q-svc", "--from-beginning", "--count", "1")
        assert "started" in pretty.output and "dummy-service__" in pretty.output
    finally:
        service.kill()


def test_run_fails_fast_on_unreachable_kafka(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STREAMFORGE_KAFKA_BOOTSTRAP", "127.0.0.1:1")
    result = invoke("run", "dummy-service", "--queue-id", "q")
    assert result.exit_code == 1
    assert result.stderr.splitlines()[-1].startswith("Error: cannot reach Kafka")

"""How a test session picks its Kafka: a configured cluster, a container, or a local broker.

The container path runs against a stand-in for testcontainers (the real one needs Docker) that
records how it is driven; the local broker is covered by ``test_kafka_broker``.
"""

from __future__ import annotations

import sys
import types
from pathlib import Path
from typing import Any

import pytest

from dev_env.kafka import (
    KafkaContainerError,
    KafkaEnvError,
    kafka_for_tests,
    start_kafka_container,
)


class _FakeKafkaContainer:
    instances: list[_FakeKafkaContainer] = []
    fail_with: Exception | None = None

    def __init__(self, image: str) -> None:
        self.image = image
        self.kraft = False
        self.env: dict[str, str] = {}
        self.started_with: dict[str, Any] | None = None
        self.stopped = False
        self.instances.append(self)

    def with_kraft(self) -> _FakeKafkaContainer:
        self.kraft = True
        return self

    def with_env(self, key: str, value: str) -> _FakeKafkaContainer:
        self.env[key] = value
        return self

    def start(self, timeout: int) -> _FakeKafkaContainer:
        if self.fail_with is not None:
            raise self.fail_with
        self.started_with = {"timeout": timeout}
        return self

    def get_bootstrap_server(self) -> str:
        return "localhost:32771"

    def stop(self) -> None:
        self.stopped = True


@pytest.fixture
def fake_testcontainers(monkeypatch: pytest.MonkeyPatch) -> type[_FakeKafkaContainer]:
    module = types.ModuleType("testcontainers.kafka")
    module.__dict__["KafkaContainer"] = _FakeKafkaContainer
    monkeypatch.setitem(sys.modules, "testcontainers", types.ModuleType("testcontainers"))
    monkeypatch.setitem(sys.modules, "testcontainers.kafka", module)
    monkeypatch.setattr(_FakeKafkaContainer, "instances", [])
    return _FakeKafkaContainer


def test_configured_cluster_is_used_as_is(tmp_path: Path) -> None:
    env = {"STREAMFORGE_KAFKA_BOOTSTRAP": "kafka-1:9092", "STREAMFORGE_TEST_KAFKA": "container"}

    with kafka_for_tests(tmp_path, env=env) as bootstrap:
        assert bootstrap == "kafka-1:9092"
    assert list(tmp_path.iterdir()) == []


def test_unknown_mode_is_refused(tmp_path: Path) -> None:
    unknown = kafka_for_tests(tmp_path, env={"STREAMFORGE_TEST_KAFKA": "docker"})

    with pytest.raises(KafkaEnvError, match=r"^STREAMFORGE_TEST_KAFKA must be .*, got 'docker'$"):
        unknown.__enter__()


def test_container_runs_kraft_without_topic_auto_creation(
    fake_testcontainers: type[_FakeKafkaContainer], tmp_path: Path
) -> None:
    with kafka_for_tests(tmp_path, env={"STREAMFORGE_TEST_KAFKA": "container"}) as bootstrap:
        assert bootstrap == "localhost:32771"
        (container,) = fake_testcontainers.instances
        assert container.kraft
        assert container.env["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"
        assert container.started_with is not None
        assert not container.stopped
    assert container.stopped


def test_container_failure_is_one_line(
    fake_testcontainers: type[_FakeKafkaContainer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(fake_testcontainers, "fail_with", RuntimeError("Docker is not running"))

    with pytest.raises(KafkaContainerError, match=r"^cannot start .*: Docker is not running$"):
        start_kafka_container()


def test_missing_testcontainers_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "testcontainers.kafka", None)  # import fails

    with pytest.raises(KafkaContainerError, match="install StreamForge with the 'container' extra"):
        start_kafka_container()

"""The Kafka cluster a test session runs against: configured, in a container, or local."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from dev_env.kafka.broker import LocalKafka, default_kafka_dir
from dev_env.kafka.container import start_kafka_container
from dev_env.kafka.distribution import DIST_DIR_ENV, default_dist_dir
from dev_env.kafka.errors import KafkaEnvError

BOOTSTRAP_ENV = "STREAMFORGE_KAFKA_BOOTSTRAP"
MODE_ENV = "STREAMFORGE_TEST_KAFKA"


def shared_dist_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """``env`` (default: ``os.environ``) with ``STREAMFORGE_KAFKA_DIST_DIR`` defaulted to the
    user's broker download, so throwaway brokers fetch Kafka once per machine, not per run."""
    merged = dict(os.environ if env is None else env)
    merged.setdefault(DIST_DIR_ENV, str(default_dist_dir(default_kafka_dir())))
    return merged


@contextmanager
def kafka_for_tests(data_dir: Path, env: Mapping[str, str] | None = None) -> Iterator[str]:
    """Bootstrap ``host:port`` of the cluster for a test run, torn down afterwards.

    ``STREAMFORGE_KAFKA_BOOTSTRAP`` set: that cluster, untouched.
    ``STREAMFORGE_TEST_KAFKA=container``: a testcontainers broker.
    Otherwise (``STREAMFORGE_TEST_KAFKA`` unset or ``local``): a :class:`LocalKafka` on free
    ports in ``data_dir``.
    """
    env = shared_dist_env(env)
    mode = env.get(MODE_ENV) or "local"
    if mode not in ("local", "container"):
        raise KafkaEnvError(f"{MODE_ENV} must be 'local' or 'container', got {mode!r}")
    if env.get(BOOTSTRAP_ENV):
        yield env[BOOTSTRAP_ENV]
    elif mode == "container":
        bootstrap, stop = start_kafka_container()
        try:
            yield bootstrap
        finally:
            stop()
    else:
        broker = LocalKafka(data_dir, port=0, env=env)
        state = broker.start()
        try:
            yield state.bootstrap
        finally:
            broker.stop()

"""A local single-node Apache Kafka (KRaft) broker with an explicit start/stop lifecycle.

Everything lives in one data dir::

    server.properties, log4j2.properties   written on every start
    storage/                               the broker's data, formatted on the first start only
    logs/server.log                        the broker's log (size-capped); logs/jvm.out: JVM output
    broker.json                            pid and ports while it runs (how ``stop`` finds it)
"""

from __future__ import annotations

import base64
import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from dev_env.kafka.distribution import KafkaDistribution, resolve_distribution
from dev_env.kafka.errors import (
    BrokerAlreadyRunningError,
    BrokerNotRunningError,
    BrokerStartError,
    BrokerStopError,
)
from dev_env.kafka.net import HOST, free_ports, kafka_answers, port_is_free
from dev_env.kafka.process import process_alive, reap, spawn, start_time
from dev_env.kafka.properties import server_properties
from dev_env.kafka.state import BrokerState, read_state, write_state
from streamforge.config import default_data_dir

# Light enough for a 2-core laptop next to the rest of the stack.
_JVM_OPTIONS = (
    "-Xms256m",
    "-Xmx512m",
    "-XX:+UseG1GC",
    "-XX:MaxGCPauseMillis=20",
    "-XX:+ExplicitGCInvokesConcurrent",
    "-Djava.awt.headless=true",
)
_POLL_S = 0.2
_KILL_WAIT_S = 10.0
_TAIL_LINES = 30


def default_kafka_dir() -> Path:
    """The data dir of the user's local broker: ``<StreamForge data dir>/kafka``."""
    return default_data_dir() / "kafka"


class LocalKafka:
    """One broker (combined broker and controller) on loopback, living in ``data_dir``.

    ``port`` and ``controller_port`` of 0 pick free ports at start. The broker is found by its
    data dir, so a ``LocalKafka`` in another process can report or stop one started here.
    ``env`` (default: ``os.environ``) supplies ``JAVA_HOME``, ``KAFKA_HOME``, ``PATH`` and
    ``STREAMFORGE_KAFKA_DIST_DIR``.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        port: int = 9092,
        controller_port: int = 0,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.data_dir = (default_kafka_dir() if data_dir is None else data_dir).absolute()
        self.port = port
        self.controller_port = controller_port
        self._env = os.environ if env is None else env
        self._pid: int | None = None

    @property
    def log_file(self) -> Path:
        """The broker's log."""
        return self.data_dir / "logs" / "server.log"

    @property
    def _properties(self) -> Path:
        return self.data_dir / "server.properties"

    @property
    def _storage(self) -> Path:
        return self.data_dir / "storage"

    @property
    def _jvm_out(self) -> Path:
        return self.data_dir / "logs" / "jvm.out"

    @property
    def _state_file(self) -> Path:
        return self.data_dir / "broker.json"

    def running(self) -> BrokerState | None:
        """The broker running on this data dir, started by any process; None if there is none."""
        state = read_state(self._state_file)
        if state is None:
            return None
        if process_alive(state.pid, state.started):
            return state
        self._state_file.unlink(missing_ok=True)
        return None

    def start(self, timeout: float = 60.0, detach: bool = False) -> BrokerState:
        """Start the broker; return once a client can use it.

        Kafka's jars are fetched first when needed (not counted in ``timeout``); storage is
        formatted on the first start only, so topics survive restarts. With ``detach`` the JVM
        runs in its own session and outlives this process. Raises
        :class:`BrokerAlreadyRunningError` if this data dir's broker runs, and
        :class:`BrokerStartError` (with the log tail as exception notes) if it does not come up.
        """
        running = self.running()
        if running is not None:
            raise BrokerAlreadyRunningError(
                f"Kafka already runs on {running.bootstrap} for {self.data_dir} (pid {running.pid})"
            )
        port, controller_port = self._choose_ports()
        dist = resolve_distribution(self.data_dir, self._env)
        deadline = time.monotonic() + timeout
        self._write_config(port, controller_port)
        if not (self._storage / "meta.properties").is_file():
            self._format(dist, deadline)
        log_start = _size(self.log_file)  # server.log spans restarts; errors are this run's
        self._pid = spawn(
            self._java(dist, "kafka.Kafka", str(self._properties)),
            self._env,
            self._jvm_out,
            new_session=detach,
        )
        state = BrokerState(self._pid, port, controller_port, started=start_time(self._pid))
        write_state(self._state_file, state)
        self._wait_ready(state, deadline, timeout, log_start)
        return state

    def wait(self) -> int:
        """Block until the broker started by this object exits; its exit code."""
        if self._pid is None:
            raise BrokerNotRunningError("this LocalKafka has not started a broker")
        _, status = os.waitpid(self._pid, 0)
        return os.waitstatus_to_exitcode(status)

    def stop(self, timeout: float = 30.0, *, missing_ok: bool = False) -> None:
        """Stop this data dir's broker: SIGTERM, then SIGKILL if it is not gone in ``timeout``.

        Raises :class:`BrokerNotRunningError` when none runs, unless ``missing_ok``.
        """
        state = self.running()
        if state is None:
            if missing_ok:
                return
            raise BrokerNotRunningError(f"no Kafka broker is running for {self.data_dir}")
        self._signal(state.pid, signal.SIGTERM)
        if not self._wait_exit(state, timeout):
            self._signal(state.pid, signal.SIGKILL)
            if not self._wait_exit(state, _KILL_WAIT_S):
                raise BrokerStopError(f"Kafka (pid {state.pid}) did not exit even after SIGKILL")
        self._state_file.unlink(missing_ok=True)

    def _choose_ports(self) -> tuple[int, int]:
        free = iter(free_ports(2))
        port = self.port or next(free)
        controller_port = self.controller_port or next(free)
        if port == controller_port:
            raise BrokerStartError(f"the client and controller ports must differ, both are {port}")
        for candidate in (port, controller_port):
            if not port_is_free(candidate):
                raise BrokerStartError(f"port {candidate} on {HOST} is already in use")
        return port, controller_port

    def _write_config(self, port: int, controller_port: int) -> None:
        self._jvm_out.parent.mkdir(parents=True, exist_ok=True)
        self._properties.write_text(server_properties(port, controller_port, self._storage))
        log4j = resources.files("dev_env.kafka").joinpath("log4j2.properties").read_text()
        (self.data_dir / "log4j2.properties").write_text(log4j)

    def _java(self, dist: KafkaDistribution, main_class: str, *args: str) -> list[str]:
        return [
            str(dist.java),
            *_JVM_OPTIONS,
            f"-Dkafka.logs.dir={self.log_file.parent}",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            "-cp",
            dist.classpath,
            main_class,
            *args,
        ]

    def _format(self, dist: KafkaDistribution, deadline: float) -> None:
        cluster_id = new_cluster_id()
        args = ("format", "--standalone", "-t", cluster_id, "-c", str(self._properties))
        command = self._java(dist, "kafka.tools.StorageTool", *args)
        try:
            result = subprocess.run(
                command,
                capture_output=True,
                text=True,
                env=dict(self._env),
                check=False,
                timeout=max(deadline - time.monotonic(), 1.0),
            )
        except subprocess.TimeoutExpired:
            raise BrokerStartError(f"formatting storage in {self._storage} timed out") from None
        if result.returncode != 0:
            output = (result.stdout + result.stderr).splitlines()
            raise _with_notes(
                BrokerStartError(
                    f"formatting Kafka storage failed (exit {result.returncode}): "
                    f"{_summary(output)}"
                ),
                output[-_TAIL_LINES:],
            )

    def _wait_ready(
        self, state: BrokerState, deadline: float, timeout: float, log_start: int
    ) -> None:
        while not kafka_answers(state.host, state.port):
            code = reap(state.pid)
            if code is not None:
                self._state_file.unlink(missing_ok=True)
                reason = f"Kafka exited with code {code} before it was ready"
                raise self._start_error(reason, log_start)
            if time.monotonic() >= deadline:
                self.stop(missing_ok=True)
                raise self._start_error(f"Kafka was not ready within {timeout:g}s", log_start)
            time.sleep(_POLL_S)

    def _start_error(self, reason: str, log_start: int) -> BrokerStartError:
        lines = _tail(self.log_file, log_start) + _tail(self._jvm_out)
        error = BrokerStartError(f"{reason}: {_summary(lines)} (log: {self.log_file})")
        return _with_notes(error, lines)

    @staticmethod
    def _wait_exit(state: BrokerState, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while process_alive(state.pid, state.started):
            if time.monotonic() >= deadline:
                return False
            time.sleep(_POLL_S / 2)
        return True

    @staticmethod
    def _signal(pid: int, signum: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError):  # it exited on its own meanwhile
            os.kill(pid, signum)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _tail(path: Path, start: int = 0) -> list[str]:
    """The last lines of ``path`` after byte ``start`` (all of it if it rolled over since)."""
    try:
        with path.open("rb") as handle:
            handle.seek(start if start <= _size(path) else 0)
            text = handle.read().decode(errors="replace")
    except OSError:
        return []
    return text.splitlines()[-_TAIL_LINES:]


def _summary(lines: list[str]) -> str:
    """The line most likely to say what went wrong: the last error that is not a stack frame."""
    errors = [
        line.strip()
        for line in lines
        if line[:1].strip() and any(word in line for word in ("ERROR", "Error", "Exception"))
    ]
    meaningful = errors or [line.strip() for line in lines if line.strip()]
    return meaningful[-1] if meaningful else "no log output"


def new_cluster_id() -> str:
    """A KRaft cluster id: a base64url uuid without padding (meta.properties keeps it).

    Like Kafka's own ``Uuid.randomUuid()`` it never starts with ``-``, which the storage
    tool's command line would take for an option.
    """
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):
            return cluster_id


def _with_notes(error: BrokerStartError, lines: list[str]) -> BrokerStartError:
    for line in lines:
        error.add_note(line)
    return error

"""The embedded default stack of ``streamforge up``, everything under one data dir.

In order: Kafka (the configured cluster if it answers, else a local broker under
``<data dir>/kafka`` run as a supervised process), the platform topics, the exchange simulator
(unless the live exchange is wanted), the queue-manager, and a ``live`` workflow whose steps
(loader-ws, store-connector) the queue-manager runs. Stopping cancels the workflow, then stops
the processes in reverse order and makes sure no step process outlived them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dev_env.kafka import LocalKafka
from dev_env.kafka.net import HOST, free_ports, kafka_answers, port_is_free
from dev_env.supervisor.errors import StackStartError
from dev_env.supervisor.health import HttpHealth, KafkaHealth
from dev_env.supervisor.live import LiveWorkflow
from dev_env.supervisor.paths import StackPaths
from dev_env.supervisor.process import stop_group
from dev_env.supervisor.spec import ProcessSpec
from dev_env.supervisor.state import Phase, ServiceRecord, ServiceState
from dev_env.supervisor.supervisor import Supervisor
from streamforge.bus import ensure_topics, platform_topics
from streamforge.config import Settings, load_settings

log = logging.getLogger(__name__)

SIMULATOR = "simulator"
QUEUE_MANAGER = "queue-manager"
KAFKA = "kafka"
EXCHANGES = ("sim", "binance")

_LOOPBACK = ("127.0.0.1", "localhost")
# A first start may download Kafka with Maven.
_KAFKA_READY_S = 600.0
# The broker CLI waits up to 30 s for the JVM to stop.
_KAFKA_STOP_GRACE_S = 45.0
# The queue-manager gives its steps 10 s to stop.
_QUEUE_MANAGER_STOP_GRACE_S = 30.0
_STEP_STOP_GRACE_S = 10.0
_MONITOR_S = 1.0


@dataclass(frozen=True)
class StackOptions:
    """What ``streamforge up`` was asked for.

    Attributes:
        data_dir: Where everything the stack writes goes.
        symbols: The symbols of the live workflow.
        exchange: ``sim`` (a local simulator) or ``binance`` (the live exchange).
        config_file: The settings file, passed on to every service.
        sim_trade_rate: The simulator's aggregate trades per second and symbol.
    """

    data_dir: Path
    symbols: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    exchange: str = "sim"
    config_file: Path | None = None
    sim_trade_rate: float = 5.0


class Stack:
    """Brings the stack up (:meth:`start`) and down (:meth:`stop`) under a :class:`Supervisor`.

    ``settings`` are the caller's (where Kafka is configured, the topic prefix); ``report``
    receives one line per step and per change of a service's state.
    """

    def __init__(
        self,
        options: StackOptions,
        settings: Settings,
        report: Callable[[str], None],
        *,
        python: str = sys.executable,
    ) -> None:
        self.options = options
        self.paths = StackPaths(options.data_dir.absolute())
        self.report = report
        self.python = python
        self.supervisor = Supervisor(
            self.paths.log_dir, self.paths.state_file, on_change=self._changed
        )
        #: The environment of every service (complete once :meth:`start` has returned).
        self.env: dict[str, str] = self._base_env()
        self._settings = settings
        self._live: LiveWorkflow | None = None
        self._monitor: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Bring every service up; the state records a failure (the caller then stops)."""
        try:
            await self._start()
        except Exception as exc:
            self.supervisor.set_phase(Phase.FAILED, str(exc))
            raise

    async def stop(self) -> None:
        """Cancel the workflow, stop every process, and sweep what the queue-manager left."""
        supervisor = self.supervisor
        if supervisor.phase is not Phase.FAILED:
            supervisor.set_phase(Phase.STOPPING)
        if self._live is not None:
            if _healthy(supervisor.records(), QUEUE_MANAGER):
                self.report("cancelling the live workflow")
                with contextlib.suppress(Exception):
                    await self._live.stop()
            if self._monitor is not None:
                self._monitor.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._monitor
            with contextlib.suppress(Exception):
                await self._live.close()
        self.report("stopping services")
        await supervisor.stop()
        steps = [(r.pid, r.pid_started) for r in supervisor.records() if r.kind == "step" and r.pid]
        await asyncio.gather(
            *(
                asyncio.to_thread(stop_group, pid, started, _STEP_STOP_GRACE_S)
                for pid, started in steps
            )
        )

    # -- start ------------------------------------------------------------------------------

    async def _start(self) -> None:
        options, supervisor = self.options, self.supervisor
        supervisor.set_details(
            data_dir=str(self.paths.data_dir),
            logs=str(self.paths.log_dir),
            symbols=",".join(options.symbols),
        )
        bootstrap = await self._kafka()
        sim_port, manager_port = free_ports(2)
        if options.exchange == "sim":
            self.env.update(_simulator_env(sim_port))
        self.env["STREAMFORGE_KAFKA_BOOTSTRAP"] = bootstrap
        self.env["STREAMFORGE_TOPIC_PREFIX"] = self._settings.topic_prefix
        # Each service picks a free port; the queue-manager's own is set on its command line.
        self.env["STREAMFORGE_METRICS_PORT"] = "0"
        settings = load_settings(env=self.env, config_file=options.config_file)
        supervisor.set_details(store=str(settings.store_url))
        if options.exchange == "sim":
            self._launch(self._simulator(sim_port))  # needs no Kafka: starts beside it
            supervisor.set_details(exchange=f"simulator at {settings.binance.rest_url}")
        else:
            supervisor.set_details(exchange=f"binance at {settings.binance.rest_url}")
        if KAFKA in supervisor.names():
            await supervisor.wait_healthy(KAFKA)
        self.report("creating topics")
        await ensure_topics(settings, platform_topics())
        if options.exchange == "sim":
            await supervisor.wait_healthy(SIMULATOR)
        self._launch(self._queue_manager(manager_port))
        await supervisor.wait_healthy(QUEUE_MANAGER)
        self.report(f"submitting the live workflow for {','.join(options.symbols)}")
        self._live = LiveWorkflow(
            settings, options.symbols, self.paths.data_dir, self.paths.steps_log_dir
        )
        await self._live.start()
        supervisor.set_details(workflow=self._live.queue_id)
        supervisor.report(await self._live.records())
        self._monitor = asyncio.create_task(self._watch_steps(self._live), name="watch steps")
        supervisor.set_phase(Phase.RUNNING)

    async def _kafka(self) -> str:
        """The bootstrap of the cluster to use; when none answers, a local broker is launched
        (the caller waits for it to be healthy)."""
        kafka = self._settings.kafka
        configured = kafka.bootstrap
        # A secured cluster cannot be probed in plain text: it is external, use it.
        if kafka.security_protocol != "PLAINTEXT" or await _answers(configured):
            self.supervisor.set_details(kafka=configured, kafka_origin="configured")
            return configured
        local = LocalKafka(self.paths.kafka_dir).running()
        if local is not None and await asyncio.to_thread(kafka_answers, local.host, local.port):
            origin = f"already running (pid {local.pid})"
            self.supervisor.set_details(kafka=local.bootstrap, kafka_origin=origin)
            return local.bootstrap
        host, _, port_text = configured.rpartition(":")
        if "," in configured or host not in _LOOPBACK:
            raise StackStartError(f"Kafka at {configured} does not answer")
        port = int(port_text)
        if not port_is_free(port):
            raise StackStartError(
                f"nothing answers as Kafka on {configured}, yet its port is taken"
            )
        self.report(f"Kafka will run on {HOST}:{port} in {self.paths.kafka_dir}")
        self._launch(
            ProcessSpec(
                KAFKA,
                (
                    *self._module("streamforge.cli.kafka"),
                    *("start", "--port", str(port), "--data-dir", str(self.paths.kafka_dir)),
                ),
                env=self._base_env(),
                health=KafkaHealth(HOST, port),
                ready_timeout_s=_KAFKA_READY_S,
                stop_grace_s=_KAFKA_STOP_GRACE_S,
            )
        )
        bootstrap = f"{HOST}:{port}"
        self.supervisor.set_details(kafka=bootstrap, kafka_origin="started by this stack")
        return bootstrap

    def _simulator(self, port: int) -> ProcessSpec:
        return ProcessSpec(
            SIMULATOR,
            (
                *self._module("streamforge.cli.sim"),
                *("--port", str(port), "--symbols", ",".join(self.options.symbols)),
                *("--trade-rate", f"{self.options.sim_trade_rate:g}"),
            ),
            env=self.env,
            health=HttpHealth(f"http://{HOST}:{port}/api/v3/ping"),
        )

    def _queue_manager(self, port: int) -> ProcessSpec:
        return ProcessSpec(
            QUEUE_MANAGER,
            (*self._module("streamforge"), "run", "queue-manager", "--metrics-port", str(port)),
            env=self.env,
            health=HttpHealth(f"http://{HOST}:{port}/health"),
            stop_grace_s=_QUEUE_MANAGER_STOP_GRACE_S,
        )

    def _launch(self, spec: ProcessSpec) -> None:
        self.report(f"starting {spec.name}")
        self.supervisor.start(spec)

    async def _watch_steps(self, live: LiveWorkflow) -> None:
        while True:
            try:
                self.supervisor.report(await live.records())
            except Exception:  # the next round may do better; the state stays as it was
                log.exception("cannot report the workflow's steps")
            await asyncio.sleep(_MONITOR_S)

    # -- helpers ----------------------------------------------------------------------------

    def _module(self, name: str) -> tuple[str, ...]:
        # A command's own module (streamforge.cli.sim) starts seconds sooner than `streamforge`.
        return (self.python, "-m", name)

    def _base_env(self) -> dict[str, str]:
        env = {
            **os.environ,
            "STREAMFORGE_DATA_DIR": str(self.paths.data_dir),
            # Service output goes to log files: do not hold it back in buffers.
            "PYTHONUNBUFFERED": "1",
        }
        if self.options.config_file is not None:
            env["STREAMFORGE_CONFIG"] = str(self.options.config_file.absolute())
        return env

    def _changed(self, record: ServiceRecord) -> None:
        why = f" ({record.reason})" if record.reason else ""
        self.report(f"{record.name}: {record.state.value}{why}")


def _simulator_env(port: int) -> dict[str, str]:
    base = f"{HOST}:{port}"
    return {
        "STREAMFORGE_BINANCE_REST_URL": f"http://{base}",
        "STREAMFORGE_BINANCE_WS_URL": f"ws://{base}",
        "STREAMFORGE_BINANCE_DATA_URL": f"http://{base}/data",
    }


def _healthy(records: list[ServiceRecord], name: str) -> bool:
    return any(r.name == name and r.state is ServiceState.HEALTHY for r in records)


async def _answers(bootstrap: str) -> bool:
    """Whether any broker of ``bootstrap`` (``host:port,...``) serves requests."""
    for server in bootstrap.split(","):
        host, _, port = server.rpartition(":")
        if await asyncio.to_thread(kafka_answers, host, int(port)):
            return True
    return False

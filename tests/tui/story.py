"""Made-up workflows on a fixed clock, and a feed that plays them to the console without Kafka.

:class:`Log` writes events the way the queue-manager and the services do, with fixed ids and
timestamps, so what the console shows of them is the same on every run (snapshot tests).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from typing import Any

from textual.pilot import Pilot

from streamforge.config import load_settings
from streamforge.orchestration.workflows import WorkflowCatalog
from streamforge.schemas import Command, Event, EventName
from tui.app import StreamForgeApp
from tui.config import ConsoleConfig
from tui.feed import (
    EventFeed,
    EventsReceived,
    FeedStats,
    FeedStatus,
    FeedStatusChanged,
    LinkState,
    MessageTarget,
)
from tui.market import MarketFeed

#: 2024-08-01 12:00:00 UTC, the console's "now" in these tests.
NOW = 1_722_513_600_000
MINUTE = 60_000
QM = "queue-manager__qm-1"
#: The settings of the console under test when no Kafka is involved.
OFFLINE = load_settings(env={"STREAMFORGE_KAFKA_BOOTSTRAP": "kafka.test:9092"})
#: What the replay feed reports to the status bar.
REPLAY_STATS = FeedStats(
    connected=True,
    detail="",
    messages_total=1_234,
    rate=12.5,
    lag=0,
    last_update_ms=NOW - 3_000,
    reconnects=1,
)


class Log:
    """Events in the order the event log would hold them; each is ``step_ms`` after the last."""

    def __init__(self, start_ms: int, step_ms: int = 1_000) -> None:
        self.events: list[Event] = []
        self.clock = start_ms
        self.step_ms = step_ms
        self.catalog = WorkflowCatalog.load()

    def add(self, name: EventName, queue_id: str, producer: str = QM, **payload: Any) -> Event:
        """Append an event."""
        self.clock += self.step_ms
        event = Event(
            event_id=f"ev-{len(self.events):05d}",
            queue_id=queue_id,
            producer=producer,
            event=name,
            payload=payload,
            timestamp=self.clock,
        )
        self.events.append(event)
        return event

    def wait(self, ms: int) -> None:
        """Let time pass."""
        self.clock += ms

    def submit(self, queue_id: str, workflow: str, command_id: str = "", **params: object) -> None:
        """A ``start`` accepted and its workflow submitted, as the queue-manager writes them."""
        definition = self.catalog.get(workflow)
        assert definition is not None
        values = definition.validate(params)
        command_id = command_id or f"cmd-{queue_id}"
        self.add(EventName.ACCEPTED, queue_id, command_id=command_id, command="start")
        steps = [
            {"name": p.name, "service": p.service, "args": p.args, "retries": p.retries}
            for p in definition.plan(values)
        ]
        self.add(
            EventName.WORKFLOW_SUBMITTED,
            queue_id,
            command_id=command_id,
            workflow=workflow,
            params=values,
            steps=steps,
        )
        self.add(EventName.WORKFLOW_RUNNING, queue_id)

    def run_step(self, queue_id: str, step: str, service: str, attempt: int = 1) -> None:
        """The queue-manager starts a step and its service says it started."""
        self.add(EventName.STEP_RUNNING, queue_id, step=step, attempt=attempt, service=service)
        self.report(EventName.STARTED, queue_id, step, service, attempt)

    def report(
        self,
        name: EventName,
        queue_id: str,
        step: str,
        service: str,
        attempt: int = 1,
        **payload: Any,
    ) -> None:
        """A service reports on the step attempt it runs."""
        producer = f"{service}__host-{attempt}"
        self.add(name, queue_id, producer, step=step, attempt=attempt, **payload)


def sample_log() -> Log:
    """Three backfills: one succeeded, one half way, one failed after retrying."""
    log = Log(NOW - 40 * MINUTE)
    done = "backfill-btcusdt-00000001"
    log.submit(done, "backfill", symbol="BTCUSDT", **{"from": "2024-07-01", "to": "2024-07-02"})
    log.run_step(done, "load", "loader-history")
    log.report(EventName.LOADING, done, "load", "loader-history", progress=0.5, records_written=720)
    log.report(EventName.FINISHED, done, "load", "loader-history", records_written=1440)
    log.add(EventName.STEP_SUCCEEDED, done, step="load", attempt=1, records_written=1440)
    log.run_step(done, "persist", "store-connector")
    log.report(EventName.FINISHED, done, "persist", "store-connector", records_written=1440)
    log.add(EventName.STEP_SUCCEEDED, done, step="persist", attempt=1, records_written=1440)
    log.add(EventName.WORKFLOW_SUCCEEDED, done)

    failed = "backfill-solusdt-00000003"
    log.wait(5 * MINUTE)
    log.submit(failed, "backfill", symbol="SOLUSDT", **{"from": "2024-07-01", "to": "2024-07-08"})
    for attempt in range(1, 5):
        log.run_step(failed, "load", "loader-history", attempt)
        reason = "HTTP 429 from the exchange (rate limit)"
        log.report(EventName.ERROR, failed, "load", "loader-history", attempt, reason=reason)
        if attempt < 4:
            retry_at = log.clock + 2_000 * attempt
            log.add(
                EventName.STEP_RETRYING,
                failed,
                step="load",
                attempt=attempt,
                reason=reason,
                retry_at=retry_at,
            )
        else:
            log.add(EventName.STEP_FAILED, failed, step="load", attempt=attempt, reason=reason)
    log.add(EventName.STEP_CANCELLED, failed, step="persist", reason="step load failed")
    log.add(EventName.WORKFLOW_FAILED, failed, reason=f"step load failed: {reason}")

    running = "backfill-ethusdt-00000002"
    log.wait(20 * MINUTE)
    log.submit(running, "backfill", symbol="ETHUSDT", **{"from": "2024-07-01", "to": "2024-07-31"})
    log.run_step(running, "load", "loader-history")
    log.run_step(running, "persist", "store-connector")
    log.wait(5 * MINUTE)
    log.report(
        EventName.LOADING, running, "load", "loader-history", progress=0.62, records_written=26_784
    )
    log.report(
        EventName.LOADING,
        running,
        "persist",
        "store-connector",
        progress=0.4,
        records_written=17_280,
        message="caught up to offset 17280",
    )
    return log


Answer = Callable[[Command], Sequence[Event]]


class OfflineMarketFeed(MarketFeed):
    """A market feed that never connects (its state stays empty)."""

    async def run(self, target: MessageTarget) -> None:
        return


class ReplayFeed(EventFeed):
    """An event feed without Kafka: connected at once, it delivers ``events`` in one batch,
    keeps every command sent in :attr:`sent` and delivers what ``answer`` makes of it."""

    def __init__(self, events: Sequence[Event] = (), answer: Answer | None = None) -> None:
        super().__init__(OFFLINE)
        self.events = list(events)
        self.answer = answer
        self.sent: list[Command] = []
        self._target: MessageTarget | None = None

    @property
    def stats(self) -> FeedStats:
        return REPLAY_STATS

    async def run(self, target: MessageTarget) -> None:
        self._target = target
        target.post_message(FeedStatusChanged(FeedStatus(LinkState.CONNECTED)))
        if self.events:
            target.post_message(EventsReceived(self.events))
        await asyncio.Event().wait()

    async def send(self, command: Command) -> None:
        self.sent.append(command)
        if self.answer is not None and self._target is not None:
            self._target.post_message(EventsReceived(list(self.answer(command))))


def answer_with(name: EventName, producer: str = QM, **payload: Any) -> Answer:
    """Answers every command with one ``name`` event carrying its command id and ``payload``."""

    def answer(command: Command) -> list[Event]:
        reply = {"command_id": command.command_id, "command": command.command.value, **payload}
        made = Event.new(name, command.queue_id, producer, reply)
        return [made]

    return answer


def console(
    events: Sequence[Event] = (), *, feed: ReplayFeed | None = None, **options: Any
) -> tuple[StreamForgeApp, ReplayFeed]:
    """A console on the jobs screen, fed by a replay feed (of ``events`` unless given) and
    stopped at :data:`NOW`."""
    feed = feed or ReplayFeed(events)
    config = options.pop("config", ConsoleConfig(start_screen="jobs"))
    app = StreamForgeApp(OFFLINE, config=config, feed=feed, clock=lambda: NOW, **options)
    return app, feed


#: The ``snap_compare`` fixture of pytest-textual-snapshot.
SnapCompare = Callable[..., bool]
#: Something to do before a snapshot is taken.
BeforeSnapshot = Callable[[Pilot[None]], Any]

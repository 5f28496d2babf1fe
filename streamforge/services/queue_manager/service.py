"""queue-manager: runs workflows as event-sourced state over ``queue-events``.

On start it folds the whole event log into a :class:`WorkflowBoard` (so a restarted manager
knows every workflow as it was), adopts the step processes still running, and only then reads
``queue-control`` with its consumer group: a command is answered and acted on before its
offset is committed, and a ``command_id`` answered before has no second effect. Four loops
then feed one :class:`WorkflowManager` under a lock: events read back, commands, process exits,
and a clock tick for deadlines and retries. Changed workflows are written to the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, ClassVar

from streamforge.bus import Batch, BusConsumer, ConsumerOptions, ensure_topics, platform_topics
from streamforge.bus.topics import CONTROL, EVENTS
from streamforge.config import Settings
from streamforge.orchestration.local_runner import LocalRunner
from streamforge.orchestration.log import replay_to_end
from streamforge.orchestration.runner import Runner
from streamforge.orchestration.state import WorkflowBoard, WorkflowState
from streamforge.orchestration.workflows import WorkflowCatalog
from streamforge.schemas import Codec, Event, RawCodec, encode
from streamforge.services.base import Service, ServiceContext
from streamforge.services.queue_manager.commands import SERVICE, read_command
from streamforge.services.queue_manager.manager import WorkflowManager
from streamforge.storage import Store, open_store

log = logging.getLogger(__name__)

_event_codec: Codec[Event] = Codec(Event)


@dataclass
class QueueManager(Service):
    """The workflow engine. ``catalog`` defaults to the built-in workflows; ``runner`` to a
    :class:`LocalRunner` logging under the data dir."""

    name: ClassVar[str] = SERVICE

    catalog: WorkflowCatalog = field(default_factory=WorkflowCatalog.load)
    runner_factory: Callable[[Settings], Runner] | None = None
    #: Write workflow views to the settings' store.
    persist_views: bool = True
    #: Stop the running steps when the manager stops (``False``: leave them; a restarted
    #: manager adopts them).
    stop_steps_on_exit: bool = True
    tick_s: float = 0.5
    stop_grace_s: float = 10.0
    command_ttl_s: float = 3600.0

    async def run(self, ctx: ServiceContext) -> dict[str, Any]:
        settings = ctx.settings
        await ensure_topics(settings, platform_topics())
        runner = (self.runner_factory or _local_runner)(settings)
        events_topic = settings.topic(EVENTS)

        async def publish(event: Event) -> None:
            await ctx.producer.send(events_topic, encode(event), key=event.queue_id.encode())

        board = WorkflowBoard()
        manager = WorkflowManager(
            board,
            self.catalog,
            runner,
            publish,
            f"{SERVICE}__{ctx.instance}",
            command_ttl_s=self.command_ttl_s,
            stop_grace_s=self.stop_grace_s,
        )
        views = _ViewWriter(settings) if self.persist_views else None
        events = BusConsumer(
            settings,
            [events_topic],
            _event_codec,
            options=ConsumerOptions(group_id=None, from_beginning=True, poll_timeout_ms=100),
        )
        control = BusConsumer(
            settings,
            [settings.topic(CONTROL)],
            RawCodec(),
            options=ConsumerOptions(
                group_id=f"{settings.topic_prefix}{SERVICE}",
                from_beginning=True,
                max_records=100,
                poll_timeout_ms=100,
            ),
        )
        lock = asyncio.Lock()
        try:
            async with events:
                folded = await replay_to_end(events, manager.on_event)
                log.info("rebuilt %d workflows from %d events", len(board), folded)
                ctx.report(message=f"{len(board)} workflows")
                async with lock:
                    await manager.adopt_running()
                async with control:
                    loops = [
                        _follow_events(events, manager, lock),
                        _follow_control(control, manager, lock),
                        _follow_exits(runner, manager, lock),
                        _tick(manager, lock, self.tick_s, views, ctx),
                    ]
                    await _until_stopped(ctx.stopping, loops)
        finally:
            await manager.close()
            await runner.close(stop_running=self.stop_steps_on_exit)
            if views is not None:
                if manager_changed := manager.take_changed():
                    await views.write(manager_changed)
                views.close()
        return {"workflows": len(board)}


def _local_runner(settings: Settings) -> Runner:
    return LocalRunner(settings.data_dir / "logs" / "steps")


async def _follow_events(
    events: BusConsumer[Event], manager: WorkflowManager, lock: asyncio.Lock
) -> None:
    async def fold(batch: Batch[Event]) -> None:
        async with lock:
            for event in batch.values:
                manager.on_event(event)
            await manager.tick()

    while True:
        await events.poll(fold)


async def _follow_control(
    control: BusConsumer[bytes], manager: WorkflowManager, lock: asyncio.Lock
) -> None:
    async def handle(batch: Batch[bytes]) -> None:
        async with lock:
            for record, raw in zip(batch.records, batch.values, strict=True):
                command = read_command(raw, record.key)
                if command is not None:
                    await manager.on_command(command)
            await manager.tick()

    while True:
        await control.poll(handle)


async def _follow_exits(runner: Runner, manager: WorkflowManager, lock: asyncio.Lock) -> None:
    while True:
        exit = await runner.exits.get()
        log.info("step process %s ended: %s", exit.ref, exit.reason)
        async with lock:
            await manager.on_exit(exit)
            await manager.tick()


async def _tick(
    manager: WorkflowManager,
    lock: asyncio.Lock,
    every_s: float,
    views: _ViewWriter | None,
    ctx: ServiceContext,
) -> None:
    while True:
        async with lock:
            await manager.tick()
            changed = manager.take_changed()
        live = sum(1 for w in manager.board if not w.status.is_terminal)
        ctx.report(message=f"{len(manager.board)} workflows, {live} live", workflows_live=live)
        if views is not None and changed:
            await views.write(changed)
        await asyncio.sleep(every_s)


async def _until_stopped(
    stopping: asyncio.Event, loops: Collection[Coroutine[Any, Any, None]]
) -> None:
    """Run the loops until ``stopping`` is set; a loop that fails ends the service."""
    tasks = [asyncio.create_task(loop) for loop in loops]
    stop = asyncio.create_task(stopping.wait())
    try:
        done, _ = await asyncio.wait({*tasks, stop}, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            if task is not stop:
                task.result()  # raises what ended it
    finally:
        for task in (*tasks, stop):
            task.cancel()
        for task in (*tasks, stop):
            with contextlib.suppress(asyncio.CancelledError):
                await task


class _ViewWriter:
    """Writes workflow views to the store in one worker thread; a store failure is logged,
    never fatal (the event log stays the source of truth)."""

    def __init__(self, settings: Settings) -> None:
        self._url = settings.store_url
        self._store: Store | None = None
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="views")
        self._failing = False

    async def write(self, workflows: list[WorkflowState]) -> None:
        views = [workflow.view() for workflow in workflows]
        loop = asyncio.get_running_loop()
        try:
            await loop.run_in_executor(self._pool, self._write, views)
        except Exception as exc:
            if not self._failing:
                log.warning("cannot write workflow views to the store: %s", exc)
            self._failing = True
        else:
            self._failing = False

    def _write(self, views: list[dict[str, Any]]) -> None:
        if self._store is None:
            self._store = open_store(self._url)
        for view in views:
            self._store.put_workflow(view)

    def close(self) -> None:
        self._pool.shutdown(wait=True)
        if self._store is not None:
            self._store.close()

"""store-connector: market records from Kafka into the store, committed once written.

Two modes:

* ``live`` (long-running): reads ``md.trades`` and ``md.candles`` (or ``topics``) until stopped.
* ``workflow`` (a Job): reads ``wf-<queue_id>-data`` and finishes once its committed offsets reach
  the end offsets in the ``finished`` event of the queue's loader-history (the newest one, should
  the loader have been retried); until the loader has finished it keeps reading. The loader and
  the connector start together, so the connector creates the data topic if it is missing.

Both consume in group ``store-connector.<queue_id>`` from the earliest offset, so a restarted
run resumes from the last commit. Progress: ``records_written`` in this run, the counts by kind
and, once the end offsets are known, the committed share of them.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, ClassVar

from aiokafka.structs import TopicPartition

from streamforge.bus import dead_letter_spec, ensure_topics, workflow_data_topic
from streamforge.bus.topics import CANDLES, TRADES
from streamforge.config import Settings
from streamforge.services.base import Service, ServiceContext
from streamforge.services.store_connector.handoff import EndOffsets, LoaderHandoff
from streamforge.services.store_connector.options import SinkOptions
from streamforge.services.store_connector.sink import Sink
from streamforge.storage import Store, open_store

LIVE_TOPICS = (TRADES, CANDLES)


class Mode(StrEnum):
    """How the connector runs: following live topics, or one workflow's data to its end."""

    LIVE = "live"
    WORKFLOW = "workflow"


def store_of(settings: Settings) -> Store:
    """The store at ``settings.store_url``."""
    return open_store(settings.store_url)


@dataclass
class StoreConnector(Service):
    """Writes the trades and candles of its topics (``symbols`` only, if given) to the store
    that ``open_store`` opens; ``topics`` (without prefix) apply to live mode."""

    name: ClassVar[str] = "store-connector"

    mode: Mode = Mode.WORKFLOW
    topics: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    options: SinkOptions = field(default_factory=SinkOptions)
    open_store: Callable[[Settings], Store] = store_of
    report_interval: float = 0.5

    def __post_init__(self) -> None:
        self.mode = Mode(self.mode)
        if self.topics and self.mode is Mode.WORKFLOW:
            raise ValueError("topics apply to live mode; workflow mode reads wf-<queue_id>-data")
        if any(not topic.strip() for topic in self.topics):
            raise ValueError(f"empty topic name in {list(self.topics)}")

    def group_id(self, queue_id: str) -> str:
        """The consumer group of a run under ``queue_id``."""
        return f"{self.name}.{queue_id}"

    async def run(self, ctx: ServiceContext) -> dict[str, Any]:
        settings = ctx.settings
        if self.mode is Mode.WORKFLOW:
            data = workflow_data_topic(ctx.queue_id)
            names: tuple[str, ...] = (data.name,)
            await ensure_topics(settings, [data, dead_letter_spec(data.name)])
        else:
            names = self.topics or LIVE_TOPICS
            await ensure_topics(settings, [dead_letter_spec(name) for name in names])
        sink = Sink(
            settings,
            [settings.topic(name) for name in names],
            self.group_id(ctx.queue_id),
            ctx.producer,
            partial(self.open_store, settings),
            options=self.options,
            symbols=self.symbols or None,
        )
        async with sink:
            if self.mode is Mode.WORKFLOW:
                return await self._workflow(ctx, sink, settings.topic(names[0]))
            await self._live(ctx, sink)
            return self._report(ctx, sink)

    async def _live(self, ctx: ServiceContext, sink: Sink) -> None:
        async with sink.running() as sinking:
            while not ctx.stopping.is_set() and not sinking.done():
                self._report(ctx, sink)
                await asyncio.wait({sinking}, timeout=self.report_interval)

    async def _workflow(self, ctx: ServiceContext, sink: Sink, topic: str) -> dict[str, Any]:
        target: dict[TopicPartition, int] | None = None
        known: EndOffsets | None = None
        async with LoaderHandoff(ctx.settings, ctx.queue_id) as handoff, sink.running() as sinking:
            while not ctx.stopping.is_set() and not sinking.done():
                ends = await handoff.poll()
                if ends is not None and ends is not known:
                    if ends.topic != topic:
                        raise ValueError(f"the loader wrote {ends.topic}, this run reads {topic}")
                    known, target = ends, ends.by_partition()
                    await sink.learn_committed(target)
                self._report(ctx, sink, target)
                if target is not None and sink.reached(target):
                    break
        committed = {
            str(tp.partition): offset
            for tp, offset in sorted(sink.committed.items())
            if tp.topic == topic
        }
        return {
            **self._report(ctx, sink, target),
            "committed_offsets": {"topic": topic, "partitions": committed},
        }

    def _report(
        self, ctx: ServiceContext, sink: Sink, target: dict[TopicPartition, int] | None = None
    ) -> dict[str, Any]:
        """Report progress; the payload of the ``finished`` event (without offsets)."""
        stats = sink.stats
        counts = {
            "trades": stats.trades,
            "candles": stats.candles,
            "other_kinds": stats.other_kind,
            "other_symbols": stats.other_symbol,
            "dead_letters": sink.dlq.count,
        }
        ctx.report(
            None if target is None else sink.fraction(target),
            records_written=stats.records_written,
            counts=counts,
            batches=stats.batches,
            paused=sink.consumer.paused,
        )
        return {"records_written": stats.records_written, "counts": counts}

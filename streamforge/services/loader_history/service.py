"""loader-history: klines and aggregate trades of one symbol over ``[start, end)`` into
``wf-<queue_id>-data``, as a Job that resumes where it stopped.

Records are keyed ``binance:SYMBOL``, so the whole load lands in one partition, in the order it
was published: day by day, klines before trades, each kind in increasing order of its position.
After every ``checkpoint_records`` records and at the end of each segment the producer is
flushed and a checkpoint saved. A restarted job reads its checkpoint and then the partition
after it (see :mod:`~streamforge.services.loader_history.resume`), and publishes only records
after the last one of each kind actually in the topic: each record ends up there exactly once.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from aiokafka.structs import TopicPartition

from streamforge.bus import ensure_topics, workflow_data_topic
from streamforge.exchanges.binance import EXCHANGE
from streamforge.exchanges.binance.intervals import INTERVALS
from streamforge.exchanges.binance.normalize import _check_symbol as check_symbol
from streamforge.exchanges.binance.rest import BinanceRest
from streamforge.exchanges.binance.trade_json import native_status
from streamforge.schemas import Trade, now_millis
from streamforge.services.base import Service, ServiceContext
from streamforge.services.loader_history.blocks import BlockDecoder, default_workers
from streamforge.services.loader_history.checkpoint import CHECKPOINTS, CheckpointStore
from streamforge.services.loader_history.chunk import ChunkEncoder
from streamforge.services.loader_history.download import BulkDownloader
from streamforge.services.loader_history.plan import Kind, Segment, plan
from streamforge.services.loader_history.progress import Progress
from streamforge.services.loader_history.resume import resume
from streamforge.services.loader_history.sources import Sources
from streamforge.services.loader_history.writer import Writer
from streamforge.services.loader_history.written import Record

log = logging.getLogger(__name__)

#: Records of a chunk go into batches of about this many bytes before compression: about a
#: block of a bulk file in one batch, so that one partition moves a block per round trip.
CHUNK_BATCH_BYTES = 4 << 20


@dataclass
class LoaderHistory(Service):
    """Loads ``kinds`` of ``symbol`` with times in ``[start, end)`` (epoch ms; ``end`` None:
    until the job starts), from bulk files where they exist (unless ``bulk`` is false) and
    REST for the rest. Klines are those opening in the range, at ``interval``."""

    name: ClassVar[str] = "loader-history"

    symbol: str
    start: int
    end: int | None = None
    interval: str = "1m"
    kinds: frozenset[Kind] = frozenset(Kind)
    bulk: bool = True
    checkpoint_records: int = 200_000
    #: Blocks of bulk files decoded side by side (worker processes, or threads for trades
    #: framed by the compiled extension); 0: one at a time; None: one per CPU, at most four.
    parse_workers: int | None = None

    def __post_init__(self) -> None:
        check_symbol(self.symbol)
        if self.interval not in INTERVALS:
            raise ValueError(f"unknown interval {self.interval!r}: one of {', '.join(INTERVALS)}")
        if not self.kinds:
            raise ValueError("nothing to load: kinds is empty")
        if self.start < 0 or (self.end is not None and self.end <= self.start):
            raise ValueError(f"empty range: [{self.start}, {self.end}) holds no time")
        if self.checkpoint_records < 1:
            raise ValueError("checkpoint_records must be positive")
        if self.parse_workers is not None and self.parse_workers < 0:
            raise ValueError("parse_workers must not be negative")

    def job_id(self, queue_id: str) -> str:
        """The identity of this load under ``queue_id``: its checkpoints' key."""
        kinds = ",".join(sorted(self.kinds))
        end = "now" if self.end is None else str(self.end)
        return f"{queue_id}|{self.symbol}|{self.interval}|{kinds}|{self.start}|{end}"

    def kind_of(self, record: Record) -> Kind | None:
        """The kind of one of this job's records; None for a record of another job."""
        if isinstance(record, Trade):
            kind, time = Kind.TRADES, record.trade_time
        elif record.interval == self.interval:
            kind, time = Kind.KLINES, record.open_time
        else:
            return None
        if kind not in self.kinds or time < self.start:
            return None
        return None if self.end is not None and time >= self.end else kind

    async def run(self, ctx: ServiceContext) -> dict[str, Any]:
        log.info(native_status())
        settings, producer = ctx.settings, ctx.producer
        data = workflow_data_topic(ctx.queue_id)
        await ensure_topics(settings, [data, CHECKPOINTS])
        topic = settings.topic(data.name)
        key = f"{EXCHANGE}:{self.symbol}".encode()
        tp = TopicPartition(topic, await producer.partition_for(topic, key))
        store = CheckpointStore(settings, producer)
        job = self.job_id(ctx.queue_id)
        now = now_millis()
        end = now if self.end is None else min(self.end, now)
        if end <= self.start:
            raise ValueError(f"the range starts at {self.start}, after now ({now})")
        resumed = await resume(settings, tp, key, self.kind_of, await store.load(job))
        writer = Writer(ctx, tp, key, job, store, resumed, self.checkpoint_records)
        leading = [kind for kind in Kind if kind in self.kinds][-1]
        progress = Progress(ctx, self.start, end, leading)
        progress.resumed(resumed.written)
        if resumed.written.total:
            log.info("resuming after %d records", resumed.written.total)
        segments = plan(self.start, end, self.kinds, self.interval, bulk=self.bulk, now=now)
        workers = default_workers() if self.parse_workers is None else self.parse_workers
        downloads = self._downloads(settings.data_dir, job)
        encoder = ChunkEncoder(key, producer.batch_encoder(CHUNK_BATCH_BYTES))
        try:
            async with (
                BinanceRest(settings.binance.rest_url) as rest,
                BulkDownloader(settings.binance.data_url, downloads) as files,
                BlockDecoder(workers if self.bulk else 0, encoder) as decoder,
            ):
                sources = Sources(rest, files, decoder, encoder, self.symbol, self.interval)
                for segment in segments:
                    if ctx.stopping.is_set():
                        break
                    await self._load(segment, sources, writer, progress, ctx)
        finally:
            shutil.rmtree(downloads, ignore_errors=True)
        await writer.checkpoint()
        if not ctx.stopping.is_set():
            progress.report(end)
        return {
            "records_written": writer.written.total,
            "counts": {
                kind.value: writer.written.counts.get(kind, 0) for kind in sorted(self.kinds)
            },
            "end_offsets": {"topic": topic, "partitions": {str(tp.partition): writer.end_offset}},
            "range": {"from": self.start, "to": end},
        }

    async def _load(
        self,
        segment: Segment,
        sources: Sources,
        writer: Writer,
        progress: Progress,
        ctx: ServiceContext,
    ) -> None:
        mark = writer.written.marks.get(segment.kind)
        if mark is not None and mark.time >= segment.end:
            return  # written before a restart
        chunks = sources.chunks(segment, mark)
        async with contextlib.aclosing(chunks):
            async for chunk in chunks:
                await writer.write(segment.kind, chunk)
                progress.reached(segment.kind, chunk.last.time)
                if ctx.stopping.is_set():
                    return
        await writer.checkpoint()
        progress.finished(segment)
        log.info(
            "loaded %s of %s from %s",
            segment.kind.value,
            segment.day.isoformat(),
            segment.source.value,
            extra={"records_written": writer.written.total},
        )

    def _downloads(self, data_dir: Path, job: str) -> Path:
        """An empty directory for the job's downloads (a killed run may have left files)."""
        digest = hashlib.sha256(job.encode()).hexdigest()[:12]
        directory = data_dir / "downloads" / f"{self.symbol}-{digest}"
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True)
        return directory

"""The records of one segment of a plan, from its bulk file or from REST, as chunks.

A bulk segment whose file is missing (404) falls back to REST for the same day. Bulk files are
decoded block by block (see :mod:`.blocks`) and deleted once read.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterator, Sequence

from streamforge.exchanges.binance.bulk import daily_agg_trades_path, daily_klines_path, open_csv
from streamforge.exchanges.binance.rest import BinanceRest
from streamforge.schemas import now_millis
from streamforge.services.loader_history.blocks import BlockDecoder, CsvFile
from streamforge.services.loader_history.chunk import Chunk, ChunkEncoder
from streamforge.services.loader_history.download import BulkDownloader, MissingFile
from streamforge.services.loader_history.plan import Kind, Segment, Source
from streamforge.services.loader_history.rest_pages import kline_pages, trade_pages
from streamforge.services.loader_history.written import Mark, Record

log = logging.getLogger(__name__)


class Sources:
    """Where the records of ``symbol`` (klines at ``interval``) come from."""

    def __init__(
        self,
        rest: BinanceRest,
        files: BulkDownloader,
        decoder: BlockDecoder,
        encoder: ChunkEncoder,
        symbol: str,
        interval: str,
    ) -> None:
        self.rest = rest
        self.files = files
        self.decoder = decoder
        self.encoder = encoder
        self.symbol = symbol
        self.interval = interval

    async def chunks(self, segment: Segment, after: Mark | None) -> AsyncGenerator[Chunk, None]:
        """The segment's records positioned after ``after``, in order, in chunks."""
        if segment.source is Source.BULK:
            try:
                archive = await self.files.fetch(self._file_path(segment))
            except MissingFile as missing:
                log.info("no bulk file %s: loading the day from REST", missing)
            else:
                try:
                    file = CsvFile(
                        segment.kind, self.symbol, self.interval, now_millis(), archive.name
                    )
                    with open_csv(archive) as stream:
                        decoded = self.decoder.chunks(file, stream, after)
                        async with contextlib.aclosing(decoded):
                            async for chunk in decoded:
                                yield chunk
                                await asyncio.sleep(0)  # let the producer send between blocks
                finally:
                    archive.unlink(missing_ok=True)
                return
        async for chunk in self._rest_chunks(segment, after):
            yield chunk

    async def _rest_chunks(
        self, segment: Segment, after: Mark | None
    ) -> AsyncGenerator[Chunk, None]:
        pages: AsyncIterator[Sequence[Record]]
        if segment.kind is Kind.KLINES:
            pages = kline_pages(
                self.rest, self.symbol, self.interval, segment.start, segment.end, after
            )
        else:
            pages = trade_pages(self.rest, self.symbol, segment.start, segment.end, after)
        async for page in pages:
            chunk = self.encoder.records(page, after)
            if chunk is not None:
                yield chunk

    def _file_path(self, segment: Segment) -> str:
        if segment.kind is Kind.KLINES:
            return daily_klines_path(self.symbol, self.interval, segment.day)
        return daily_agg_trades_path(self.symbol, segment.day)

"""Trade blocks framed by the compiled extension: the Python path's records, aiokafka's framing.

The extension (``native/``) is optional; these tests run wherever it is built, as
``scripts/setup.sh`` builds it when cargo is at hand.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys

import pytest
from aiokafka.record.default_records import DefaultRecordBatch, _DefaultRecordBatchBuilderPy
from hypothesis import given
from hypothesis import strategies as st

from streamforge.bus.batches import BatchEncoder
from streamforge.exchanges.binance import bulk
from streamforge.exchanges.binance.bulk import (
    encode_agg_trades_block,
    frame_agg_trades_block,
    native_framing,
)
from streamforge.exchanges.binance.normalize import FrameError
from streamforge.services.loader_history.blocks import BlockDecoder, CsvFile, decode_block
from streamforge.services.loader_history.chunk import ChunkEncoder
from streamforge.services.loader_history.plan import Kind
from tests.bus.batches import batch_records
from tests.services.loader_history.test_bulk_csv import rows, trade_line

if not native_framing():
    pytest.skip("the compiled extension is not built here", allow_module_level=True)

MS = 1_735_689_600_123
NOW = 1_764_000_000_000
KEY = b"binance:ETHUSDT"
_CRC = slice(17, 21)


def python_framing(
    values: list[bytes], key: bytes, max_batch_bytes: int
) -> list[tuple[bytearray, int]]:
    """``values`` framed by aiokafka's pure-Python builder, each batch with its count."""
    batches: list[tuple[bytearray, int]] = []
    builder, count = None, 0
    for value in values:
        if builder is not None and builder.append(count, NOW, key, value, []) is not None:
            count += 1
            continue
        if builder is not None:
            batches.append((builder.build(), count))
        builder, count = _DefaultRecordBatchBuilderPy(2, 0, 0, -1, -1, -1, max_batch_bytes), 0
        builder.append(0, NOW, key, value, [])
        count = 1
    if builder is not None:
        batches.append((builder.build(), count))
    return batches


def without_crc(batch: bytearray) -> bytes:
    """The batch with its checksum zeroed (the extension leaves it to be written when sealed)."""
    return bytes(batch[: _CRC.start]) + bytes(4) + bytes(batch[_CRC.stop :])


@given(
    st.lists(rows, min_size=1, max_size=40),
    st.integers(-1, 10**12),
    st.integers(100, 4000),
)
def test_framed_trades_are_the_python_paths_records_in_aiokafkas_batches(
    lines: list[str], after_id: int, max_batch_bytes: int
) -> None:
    block = "".join(lines).encode()
    reference = encode_agg_trades_block(block, "ETHUSDT", MS, after_id=after_id)
    framed = frame_agg_trades_block(block, "ETHUSDT", MS, KEY, NOW, max_batch_bytes, after_id)
    assert framed is not None, "every row is in Binance's form"
    if reference is None:
        assert (framed.batches, framed.count) == ([], 0)
        return
    assert (framed.count, framed.last_id, framed.last_time) == (
        len(reference.values),
        reference.last_id,
        reference.last_time,
    )
    expected = python_framing(reference.values, KEY, max_batch_bytes)
    assert [(without_crc(b), n) for b, n in framed.batches] == [
        (without_crc(b), n) for b, n in expected
    ]


@given(
    st.lists(rows, min_size=1, max_size=10),
    st.integers(0, 1000),
    st.binary(max_size=3),
    st.integers(0, 3),
)
def test_a_block_garbled_anywhere_is_refused_or_framed_as_the_python_path_reads_it(
    lines: list[str], at: int, inserted: bytes, removed: int
) -> None:
    block = "".join(lines).encode()
    at = min(at, len(block))
    garbled = block[:at] + inserted + block[at + removed :]
    framed = frame_agg_trades_block(garbled, "ETHUSDT", MS, KEY, NOW, 1 << 20)
    if framed is None:
        return
    reference = encode_agg_trades_block(garbled, "ETHUSDT", MS)  # must not raise
    assert reference is not None
    values = [value for plain, _ in framed.batches for _, value in records_of(plain)]
    assert values == reference.values


def records_of(plain: bytearray) -> list[tuple[bytes | None, bytes]]:
    """The (key, value) of each record of an uncompressed batch."""
    return [(record.key, record.value) for record in DefaultRecordBatch(bytes(plain))]


def test_a_chunk_of_framed_trades_holds_sealed_compressed_batches() -> None:
    block = "".join(trade_line(i, MS + i) + "\n" for i in range(1, 5001)).encode()
    encoder = ChunkEncoder(KEY, BatchEncoder("zstd", 64 * 1024))
    framed = frame_agg_trades_block(block, "ETHUSDT", MS, KEY, NOW, 64 * 1024)
    assert framed is not None
    chunk = encoder.framed(framed)
    assert chunk is not None
    assert len(chunk.batches) == len(framed.batches) > 1
    assert sum(batch.size() for batch in chunk.batches) < len(block) / 4  # compressed
    records = [record for batch in chunk.batches for record in batch_records(batch)]
    reference = encode_agg_trades_block(block, "ETHUSDT", MS)
    assert reference is not None
    assert records == [(KEY, value) for value in reference.values]
    assert (chunk.count, chunk.last.position, chunk.last.time) == (5000, 5000, MS + 5000)


@pytest.mark.parametrize(
    "line",
    [
        trade_line(2, MS).replace("False,True", "true,1"),  # read by the general path
        trade_line(10**18, MS),  # an id of 19 digits, which the extension leaves alone
    ],
    ids=["other-booleans", "19-digit-id"],
)
def test_a_block_in_another_form_is_left_to_the_python_path(line: str) -> None:
    block = f"{trade_line(1, MS)}\n{line}\n".encode()
    assert frame_agg_trades_block(block, "BTCUSDT", MS, KEY, NOW, 1 << 20) is None
    file = CsvFile(Kind.TRADES, "BTCUSDT", "1m", MS, "day.csv")
    chunk = decode_block(file, block, 1, None, ChunkEncoder(KEY, BatchEncoder("zstd", 1 << 20)))
    reference = encode_agg_trades_block(block, "BTCUSDT", MS)
    assert chunk is not None
    assert reference is not None
    records = [value for batch in chunk.batches for _, value in batch_records(batch)]
    assert records == reference.values


def test_a_bad_row_still_fails_naming_its_line() -> None:
    block = f"{trade_line(1, MS)}\n{trade_line(2, MS).replace(',4,5,', ',04,5,')}\n".encode()
    assert frame_agg_trades_block(block, "BTCUSDT", MS, KEY, NOW, 1 << 20) is None
    file = CsvFile(Kind.TRADES, "BTCUSDT", "1m", MS, "day.csv")
    with pytest.raises(FrameError, match=r"^day\.csv: line 6: Expected `int`, got `str`"):
        decode_block(file, block, 5, None, ChunkEncoder(KEY, BatchEncoder("zstd", 1 << 20)))


async def test_threads_give_the_chunks_of_the_python_path_in_worker_processes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = "".join(trade_line(i, (MS + i) * 1000) + "\n" for i in range(1, 40_001)).encode()
    file = CsvFile(Kind.TRADES, "BTCUSDT", "1m", MS, "day.csv")
    encoder = ChunkEncoder(KEY, BatchEncoder("zstd", 1 << 20))

    async def chunks() -> list[tuple[list[tuple[bytes | None, bytes]], int, object]]:
        async with BlockDecoder(2, encoder) as decoder:
            return [
                ([r for b in chunk.batches for r in batch_records(b)], chunk.count, chunk.last)
                async for chunk in decoder.chunks(file, io.BytesIO(data), None)
            ]

    framed = await chunks()
    # As if the extension were not built, here and in the worker processes spawned from here.
    monkeypatch.setattr(bulk, "NATIVE", None)
    monkeypatch.setenv("STREAMFORGE_NATIVE", "0")
    assert not native_framing()
    assert await chunks() == framed
    assert sum(count for _, count, _ in framed) == 40_000


def test_streamforge_native_0_turns_the_extension_off_and_a_bad_value_is_refused() -> None:
    probe = "from streamforge.exchanges.binance.bulk import native_framing; print(native_framing())"

    def framing(**env: str) -> str:
        return subprocess.run(
            [sys.executable, "-c", probe],
            env={**os.environ, **env},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()

    assert framing(STREAMFORGE_NATIVE="0") == "False"
    assert framing(STREAMFORGE_NATIVE="off") == "False"
    assert framing(STREAMFORGE_NATIVE="1") == "True"
    with pytest.raises(subprocess.CalledProcessError) as refused:
        framing(STREAMFORGE_NATIVE="maybe")
    assert "STREAMFORGE_NATIVE must be 0 or 1, not 'maybe'" in refused.value.stderr

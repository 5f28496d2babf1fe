"""The store writer: a child process that owns the store and writes the sink's batches.

Writing a batch is most of the sink's work, and in one process it would take turns with reading
and decoding for the GIL. So the store lives in a process of its own: the sink hands it each
batch as rows (:data:`~streamforge.storage.tables.Rows`, sent as MessagePack, far cheaper to
send and to read back than the records themselves) and gets back how long the write took. The
sink hands over the next batch while one is written, and commits each once its answer is in.

The process is started with ``spawn``: the sink runs threads and an event loop, which ``fork``
would copy in an unknown state. It ignores SIGINT and SIGTERM, because the sink decides when it
stops (after its last write); a sink that dies leaves it to exit at its next read of the pipe.
"""

from __future__ import annotations

import asyncio
import contextlib
import multiprocessing
import pickle
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any

import msgspec

from streamforge import gc_policy
from streamforge.lifecycle import AsyncLifecycle
from streamforge.schemas import Candle, Trade
from streamforge.storage import RecordKind, Store, StoreError
from streamforge.storage.tables import rows_by_kind

#: How long :meth:`StoreWriter.stop` waits for the process to close the store and exit.
STOP_TIMEOUT_S = 30.0

#: What the sink sends to end the process (an empty batch is never sent).
_STOP = b""
_READY = "ready"

_encode_rows = msgspec.msgpack.Encoder().encode
_decode_rows = msgspec.msgpack.Decoder(dict[RecordKind, list[list[Any]]]).decode


@dataclass(frozen=True)
class _Failed:
    """The process's answer when it cannot go on; it exits after sending it."""

    error: BaseException


class StoreWriter(AsyncLifecycle):
    """Runs the store in a child process and writes batches of records there, in order.

    ``open_store`` is called in that process, so it must pickle (a module-level function, a
    class, or a ``functools.partial`` of one).
    """

    def __init__(self, open_store: Callable[[], Store]) -> None:
        self._open = open_store
        self._sender: ThreadPoolExecutor | None = None
        self._process: BaseProcess | None = None
        self._conn: Connection | None = None
        self._waiting: deque[asyncio.Future[float]] = deque()

    async def start(self) -> None:
        """Start the process and wait until it has opened the store (raising what that
        raised)."""
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        process = context.Process(
            target=serve, args=(theirs, self._open), name="store-writer", daemon=True
        )
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store-writer")
        self._process, self._conn = process, ours
        loop = asyncio.get_running_loop()
        try:
            try:
                process.start()
            except (pickle.PicklingError, AttributeError, TypeError) as exc:
                raise TypeError(
                    f"open_store must pickle to run in the store writer process: {exc}"
                ) from exc
            finally:
                theirs.close()  # the child's end: the child has its own copy
            answer = await loop.run_in_executor(self._sender, _answer, ours, process)
            if answer is None:
                raise self._died()
            if answer != _READY:
                raise _raised(answer)
        except BaseException:
            await self.stop()
            raise
        threading.Thread(
            target=self._receive,
            args=(loop, ours, process),
            name="store-writer-answers",
            daemon=True,
        ).start()

    async def stop(self) -> None:
        """Let the process write what it was given, close the store and exit; kill it if it
        does not within :data:`STOP_TIMEOUT_S`."""
        sender, process, conn = self._sender, self._process, self._conn
        self._sender = self._conn = None
        if sender is None or process is None or conn is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(sender, _end, process, conn)
        finally:
            sender.shutdown(wait=False)

    def submit(
        self, trades: Sequence[Trade], candles: Sequence[Candle] = ()
    ) -> asyncio.Future[float]:
        """Hand ``trades`` and ``candles`` (not both empty) to the process, which writes them in
        one transaction; the future gives the seconds the write took, or raises what the store
        raised (:class:`StoreError` if the process died)."""
        if self._sender is None or self._conn is None:
            raise RuntimeError("the store writer is not started")
        if not trades and not candles:
            raise ValueError("nothing to write")
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self._waiting.append(future)
        # A send to a process that died fails, and so does the answers' thread's next read,
        # which fails every future waiting.
        self._sender.submit(_send, self._conn, trades, candles)
        return future

    def _receive(
        self, loop: asyncio.AbstractEventLoop, conn: Connection, process: BaseProcess
    ) -> None:
        """The answers' thread: resolves the waiting futures in order until the pipe closes."""
        while (answer := _answer(conn, process)) is not None:
            loop.call_soon_threadsafe(self._resolve, answer)
        loop.call_soon_threadsafe(self._fail_waiting)

    def _resolve(self, answer: object) -> None:
        future = self._waiting.popleft()
        if future.done():
            return
        if isinstance(answer, float):
            future.set_result(answer)
        else:
            future.set_exception(_raised(answer))

    def _fail_waiting(self) -> None:
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(self._died())

    @property
    def pid(self) -> int | None:
        """The writer process's id while it runs."""
        process = self._process
        return process.pid if process is not None and self._conn is not None else None

    def _died(self) -> StoreError:
        process = self._process
        code = process.exitcode if process is not None else None
        return StoreError(f"the store writer process exited (exit code {code})")


def _answer(conn: Connection, process: BaseProcess) -> object | None:
    """The process's next answer, or None once its pipe has closed (then it has exited, or
    does within a second, so that its exit code is known)."""
    try:
        answer: object = conn.recv()
    except (EOFError, OSError):
        process.join(1.0)
        return None
    return answer


def _send(conn: Connection, trades: Sequence[Trade], candles: Sequence[Candle]) -> None:
    payload = _encode_rows(rows_by_kind(trades, candles))
    with contextlib.suppress(OSError):  # it died: the answers' thread reports it
        conn.send_bytes(payload)


def _end(process: BaseProcess, conn: Connection) -> None:
    if process.pid is not None:  # it started
        with contextlib.suppress(OSError):  # already gone
            conn.send_bytes(_STOP)
        process.join(STOP_TIMEOUT_S)
        if process.is_alive():
            process.kill()
            process.join()
    conn.close()


def _raised(answer: object) -> BaseException:
    if isinstance(answer, _Failed):
        return answer.error
    return RuntimeError(f"unexpected answer from the store writer process: {answer!r}")


def serve(conn: Connection, open_store: Callable[[], Store]) -> None:
    """The writer process: open the store, then write each batch and answer with the seconds
    it took, until told to stop or the pipe closes. A thread reads the next batch while one is
    written, so that the sink's send returns at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    try:
        store = open_store()
    except BaseException as exc:
        _send_failure(conn, exc)
        return
    with store:
        gc_policy.tune_for_throughput()
        conn.send(_READY)
        received: queue.SimpleQueue[bytes] = queue.SimpleQueue()
        threading.Thread(target=_read, args=(conn, received), daemon=True).start()
        while (payload := received.get()) != _STOP:
            try:
                start = time.perf_counter()
                store.upsert_rows(_decode_rows(payload))
                seconds = time.perf_counter() - start
            except Exception as exc:
                _send_failure(conn, exc)
                return
            try:
                conn.send(seconds)
            except OSError:  # the sink is gone: nothing is waiting for the answer
                return


def _read(conn: Connection, received: queue.SimpleQueue[bytes]) -> None:
    while True:
        try:
            payload = conn.recv_bytes()
        except (EOFError, OSError):
            payload = _STOP
        received.put(payload)
        if payload == _STOP:
            return


def _send_failure(conn: Connection, exc: BaseException) -> None:
    try:
        payload = pickle.dumps(_Failed(exc))
    except Exception:  # an exception that does not pickle
        payload = pickle.dumps(_Failed(StoreError(f"{type(exc).__name__}: {exc}")))
    with contextlib.suppress(OSError):  # the sink is gone
        conn.send_bytes(payload)

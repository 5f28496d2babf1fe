"""Downloads of bulk history files, verified against their published sha256.

Each ``NAME.zip`` is streamed to disk beside its ``NAME.zip.CHECKSUM`` (``<sha256>  NAME.zip``).
A file whose digest does not match is fetched again once (files can be replaced while they are
read); a second mismatch fails with :class:`ChecksumError` naming the file. 5xx answers and
network errors are retried with backoff; 404 raises :class:`MissingFile`.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import httpx

from streamforge.exchanges.binance.rest import RetryPolicy
from streamforge.lifecycle import AsyncLifecycle

log = logging.getLogger(__name__)

T = TypeVar("T")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_CHUNK_BYTES = 1 << 16


class MissingFile(LookupError):
    """The data site has no such file (404)."""


class DownloadError(RuntimeError):
    """A bulk file could not be downloaded."""


class ChecksumError(DownloadError):
    """A bulk file does not match its published sha256, even when downloaded again."""


class BulkDownloader(AsyncLifecycle):
    """Fetches verified bulk files into ``directory``; use as ``async with``."""

    def __init__(
        self,
        data_url: str,
        directory: Path,
        *,
        retry: RetryPolicy | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        self.directory = directory
        self.retry = retry or RetryPolicy()
        self._http = httpx.AsyncClient(
            base_url=data_url.rstrip("/") + "/",
            timeout=timeout_s,
            headers={"User-Agent": "streamforge"},
        )

    async def start(self) -> None:
        """Nothing to do: connections open on first use."""

    async def stop(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    async def fetch(self, path: str) -> Path:
        """Download ``path`` (relative to the data URL), verified; return where it lies."""
        name = path.rsplit("/", 1)[-1]
        target = self.directory / name
        for attempt in (1, 2):
            expected = await self._checksum(path)
            actual = await self._get(path, lambda response: _save(response, target))
            if actual == expected:
                return target
            log.warning("checksum mismatch for %s (download %d)", name, attempt)
        target.unlink(missing_ok=True)
        raise ChecksumError(
            f"checksum mismatch for {name}: its sha256 is {actual}, {name}.CHECKSUM says "
            f"{expected} (downloaded twice)"
        )

    async def _checksum(self, path: str) -> str:
        text = await self._get(f"{path}.CHECKSUM", _text)
        digest = text.split(maxsplit=1)[0].lower() if text.strip() else ""
        if _SHA256.fullmatch(digest) is None:
            raise DownloadError(f"{path}.CHECKSUM holds no sha256: {text[:80]!r}")
        return digest

    async def _get(self, path: str, read: Callable[[httpx.Response], Awaitable[T]]) -> T:
        """GET ``path`` and ``read`` the answer, retrying 5xx and network errors."""
        attempt = 0
        while True:
            try:
                async with self._http.stream("GET", path) as response:
                    status = response.status_code
                    if status == 404:
                        raise MissingFile(path)
                    if status < 400:
                        return await read(response)
                    if status < 500:
                        raise DownloadError(f"{path}: the data site answered {status}")
                    why = f"status {status}"
            except httpx.TransportError as exc:
                why = f"network error: {exc!r}"
            attempt += 1
            if attempt >= self.retry.attempts:
                raise DownloadError(f"{path}: gave up after {attempt} attempts: {why}")
            delay = self.retry.delay(attempt - 1)
            log.warning("download of %s failed (%s): retry in %.2f s", path, why, delay)
            await asyncio.sleep(delay)


async def _text(response: httpx.Response) -> str:
    return (await response.aread()).decode(errors="replace")


async def _save(response: httpx.Response, target: Path) -> str:
    """Stream the body into ``target``; its sha256 in hex."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        async for chunk in response.aiter_bytes(_CHUNK_BYTES):
            digest.update(chunk)
            out.write(chunk)
    return digest.hexdigest()

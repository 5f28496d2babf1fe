"""How the supervisor tells that a service works: an HTTP endpoint answers, or Kafka does."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

import httpx

from dev_env.kafka.net import kafka_answers


class HealthCheck(Protocol):
    """A probe of one service."""

    @property
    def target(self) -> str:
        """What is probed, as shown by ``status`` (a URL)."""
        ...

    async def check(self) -> bool:
        """Whether the service answers as it should right now."""
        ...


@dataclass(frozen=True)
class HttpHealth:
    """Healthy when ``GET url`` answers 200."""

    url: str
    timeout_s: float = 2.0

    @property
    def target(self) -> str:
        """The URL probed."""
        return self.url

    async def check(self) -> bool:
        """Whether the URL answers 200 within the timeout."""
        # trust_env=False: a proxy from the environment must not stand between us and loopback.
        async with httpx.AsyncClient(timeout=self.timeout_s, trust_env=False) as client:
            try:
                response = await client.get(self.url)
            except httpx.HTTPError:
                return False
        return response.status_code == 200


@dataclass(frozen=True)
class KafkaHealth:
    """Healthy when the broker at ``host:port`` serves requests."""

    host: str
    port: int

    @property
    def target(self) -> str:
        """The broker's address."""
        return f"kafka://{self.host}:{self.port}"

    async def check(self) -> bool:
        """Whether the broker answers an ApiVersions request."""
        return await asyncio.to_thread(kafka_answers, self.host, self.port)

"""dummy-service shows the lifecycle every service shares, over a real broker."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import httpx
import pytest

from streamforge.bus import ensure_topics, platform_topics
from streamforge.config import Settings
from streamforge.orchestration.client import ControlClient
from streamforge.schemas import Command, Event, EventName
from streamforge.services.dummy import DummyService
from streamforge.services.host import EXIT_ERROR, EXIT_FINISHED, EXIT_INTERRUPTED, ServiceHost

pytestmark = pytest.mark.kafka


@pytest.fixture
async def settings(kafka_settings: Settings) -> Settings:
    await ensure_topics(kafka_settings, platform_topics(market_partitions=1))
    return kafka_settings


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[ControlClient]:
    async with ControlClient(settings) as control:
        yield control


async def wait_for(
    client: ControlClient, queue_id: str, name: EventName, wait_s: float = 60
) -> list[Event]:
    """Events of ``queue_id`` up to and including the first ``name`` event."""
    seen: list[Event] = []

    async def follow() -> None:
        async for event in client.events(queue_id):
            seen.append(event)
            if event.event is name:
                return

    await asyncio.wait_for(follow(), wait_s)
    return seen


def host(settings: Settings, queue_id: str, service: DummyService) -> ServiceHost:
    return ServiceHost(service, settings, queue_id, loading_interval=0.2, handle_signals=False)


async def test_ping_is_answered_with_pong_and_stop_interrupts(
    settings: Settings, client: ControlClient
) -> None:
    running = asyncio.create_task(host(settings, "q-ping", DummyService()).run())
    await wait_for(client, "q-ping", EventName.STARTED)

    ping = Command.new("ping", "q-ping", target="dummy-service")
    await client.send(ping)
    (pong,) = await client.replies(ping, {EventName.PONG}, wait_s=20)
    assert pong.payload["state"] == "running"
    assert pong.producer.startswith("dummy-service__")

    await client.send(Command.new("stop", "q-ping"))
    history = await wait_for(client, "q-ping", EventName.INTERRUPTED)
    assert await asyncio.wait_for(running, 20) == EXIT_INTERRUPTED
    assert [e for e in history if e.is_terminal] == history[-1:]


async def test_commands_for_other_queues_or_services_are_ignored(
    settings: Settings, client: ControlClient
) -> None:
    running = asyncio.create_task(host(settings, "q-mine", DummyService()).run())
    await wait_for(client, "q-mine", EventName.STARTED)
    other_queue = Command.new("ping", "q-other")
    other_service = Command.new("ping", "q-mine", target="loader-ws")
    await client.send(other_queue)
    await client.send(other_service)
    assert await client.replies(other_queue, {EventName.PONG}, wait_s=2) == []
    assert await client.replies(other_service, {EventName.PONG}, wait_s=1) == []
    await client.send(Command.new("stop", "*"))
    assert await asyncio.wait_for(running, 20) == EXIT_INTERRUPTED


async def test_simulated_loading_reports_progress_then_finishes_once(
    settings: Settings, client: ControlClient
) -> None:
    service = DummyService(simulate_loading=True, duration=1.5)
    code = await host(settings, "q-load", service).run()
    assert code == EXIT_FINISHED
    history = await wait_for(client, "q-load", EventName.FINISHED)
    loading = [e.payload["progress"] for e in history if e.event is EventName.LOADING]
    assert loading == sorted(loading) and loading[-1] < 1
    finished = history[-1]
    assert finished.payload["progress"] == 1.0
    assert finished.payload["records_written"] > 0
    assert [e.event for e in history if e.is_terminal] == [EventName.FINISHED]


@pytest.fixture
async def client_from_start(settings: Settings) -> AsyncIterator[ControlClient]:
    async with ControlClient(settings, from_beginning=True) as control:
        yield control


async def test_fail_after_emits_error_with_the_reason(
    settings: Settings, client_from_start: ControlClient
) -> None:
    code = await host(settings, "q-fail", DummyService(fail_after=0.5)).run()
    assert code == EXIT_ERROR
    history = await wait_for(client_from_start, "q-fail", EventName.ERROR)
    assert history[0].event is EventName.STARTED
    assert "simulated failure after 0.5 s" in history[-1].payload["reason"]
    assert [e.event for e in history if e.is_terminal] == [EventName.ERROR]


async def test_unsupported_command_aimed_at_the_service_is_rejected(
    settings: Settings, client: ControlClient
) -> None:
    running = asyncio.create_task(host(settings, "q-rej", DummyService()).run())
    await wait_for(client, "q-rej", EventName.STARTED)
    retry = Command.new("retry", "q-rej", target="dummy-service")
    await client.send(retry)
    (rejected,) = await client.replies(retry, {EventName.REJECTED}, wait_s=20)
    assert rejected.payload["field"] == "command"
    assert "does not accept 'retry'" in rejected.payload["reason"]
    await client.send(Command.new("stop", "q-rej"))
    assert await asyncio.wait_for(running, 20) == EXIT_INTERRUPTED


async def test_health_and_metrics_endpoints(settings: Settings, client: ControlClient) -> None:
    running = asyncio.create_task(host(settings, "q-http", DummyService()).run())
    (started,) = [
        e
        for e in await wait_for(client, "q-http", EventName.STARTED)
        if e.event is EventName.STARTED
    ]
    port = started.payload["metrics_port"]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
        health = await http.get("/health")
        metrics = await http.get("/metrics")
    assert health.status_code == 200
    assert health.json()["state"] == "running"
    assert 'streamforge_service_up{queue_id="q-http",service="dummy-service"} 1.0' in metrics.text
    await client.send(Command.new("stop", "q-http"))
    await asyncio.wait_for(running, 20)


async def test_sigterm_stops_a_service_process_like_stop(
    settings: Settings, client: ControlClient
) -> None:
    env = {
        **os.environ,
        "STREAMFORGE_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "STREAMFORGE_TOPIC_PREFIX": settings.topic_prefix,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamforge",
            "run",
            "dummy-service",
            "--queue-id",
            "q-term",
            "--loading-interval",
            "0.5",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await wait_for(client, "q-term", EventName.STARTED)
        process.send_signal(signal.SIGTERM)
        history = await wait_for(client, "q-term", EventName.INTERRUPTED)
        assert await asyncio.to_thread(process.wait, 60) == EXIT_INTERRUPTED
    finally:
        process.kill()
    assert history[-1].event is EventName.INTERRUPTED
    assert process.stderr is not None
    log_lines = process.stderr.read().splitlines()
    assert any('"message":"interrupted"' in line for line in log_lines)

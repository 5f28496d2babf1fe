"""The local runner, with real ``streamforge run dummy-service`` processes and a real broker."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from streamforge.bus import ensure_topics, platform_topics
from streamforge.bus.topics import CONTROL, EVENTS
from streamforge.config import Settings
from streamforge.orchestration.client import ControlClient
from streamforge.orchestration.local_runner import UNOBSERVED, LocalRunner
from streamforge.orchestration.runner import StepExit, StepLaunch
from streamforge.schemas import Event, EventName
from streamforge.services.host import EXIT_ERROR, EXIT_FINISHED, EXIT_INTERRUPTED

pytestmark = pytest.mark.kafka

WAIT_S = 60


@pytest.fixture
async def settings(kafka_settings: Settings) -> Settings:
    control_plane = [t for t in platform_topics(market_partitions=1) if t.name in (CONTROL, EVENTS)]
    await ensure_topics(kafka_settings, control_plane)
    return kafka_settings


@pytest.fixture
def make_runner(settings: Settings, tmp_path: Path) -> Callable[[], LocalRunner]:
    """A factory of runners whose steps reach the test's broker and topics."""
    env = {
        **os.environ,
        "STREAMFORGE_KAFKA_BOOTSTRAP": settings.kafka.bootstrap,
        "STREAMFORGE_TOPIC_PREFIX": settings.topic_prefix,
    }
    return lambda: LocalRunner(tmp_path / "logs", base_env=env)


@pytest.fixture
async def runner(make_runner: Callable[[], LocalRunner]) -> AsyncIterator[LocalRunner]:
    runner = make_runner()
    yield runner
    await runner.close(stop_running=True)


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[ControlClient]:
    async with ControlClient(settings, from_beginning=True) as control:
        yield control


def dummy(queue_id: str, *args: str, step: str = "work", attempt: int = 1) -> StepLaunch:
    return StepLaunch(
        queue_id, step, attempt, "dummy-service", ("--loading-interval", "0.2", *args)
    )


async def next_exit(runner: LocalRunner) -> StepExit:
    return await asyncio.wait_for(runner.exits.get(), WAIT_S)


async def events_until(client: ControlClient, queue_id: str, name: EventName) -> list[Event]:
    """Events of ``queue_id`` up to and including the first ``name`` event."""
    seen: list[Event] = []

    async def follow() -> None:
        async for event in client.events(queue_id):
            seen.append(event)
            if event.event is name:
                return

    await asyncio.wait_for(follow(), WAIT_S)
    return seen


async def events_during(client: ControlClient, queue_id: str, seconds: float) -> list[Event]:
    deadline = time.monotonic() + seconds
    seen: list[Event] = []
    while time.monotonic() < deadline:
        seen += [e for e in await client.next_events() if e.queue_id == queue_id]
    return seen


def pid_of(ref: str) -> int:
    return int(ref.split(":")[1])


def exists(ref: str) -> bool:
    """Whether the process of ``ref`` exists, even as a zombie."""
    return Path(f"/proc/{pid_of(ref)}").exists()


async def test_a_step_runs_to_its_end_and_its_events_name_step_and_attempt(
    runner: LocalRunner, client: ControlClient
) -> None:
    launch = dummy("q-ok", "--simulate-loading", "--duration", "1", step="backfill", attempt=2)
    ref = await runner.launch(launch)
    assert ref.startswith("local:")
    assert runner.tracked() == {ref}

    assert await next_exit(runner) == StepExit(ref, EXIT_FINISHED, "exited with code 0")
    assert runner.tracked() == set()
    events = await events_until(client, "q-ok", EventName.FINISHED)
    assert {EventName.STARTED, EventName.LOADING} <= {e.event for e in events}
    assert all(e.payload["step"] == "backfill" for e in events)
    assert all(e.payload["attempt"] == 2 for e in events)
    log = runner.log_path(launch)
    assert log == runner.log_dir / "q-ok" / "backfill.2.log"
    assert '"message":"finished"' in log.read_text()


async def test_a_failing_step_exits_with_code_1_and_logs_why(runner: LocalRunner) -> None:
    launch = dummy("q-fail", "--fail-after", "0.3")
    ref = await runner.launch(launch)
    assert await next_exit(runner) == StepExit(ref, EXIT_ERROR, "exited with code 1")
    assert "simulated failure after 0.3 s" in runner.log_path(launch).read_text()


async def test_a_step_killed_from_outside_is_reported_with_the_signal(
    runner: LocalRunner,
) -> None:
    ref = await runner.launch(dummy("q-killed"))
    os.kill(pid_of(ref), signal.SIGKILL)
    assert await next_exit(runner) == StepExit(ref, -signal.SIGKILL, "killed by SIGKILL")


async def test_stop_ends_a_step_gracefully(runner: LocalRunner, client: ControlClient) -> None:
    ref = await runner.launch(dummy("q-stop"))
    await events_until(client, "q-stop", EventName.STARTED)
    await runner.stop(ref, grace_s=WAIT_S)
    # The exit is reported by the time stop() returns.
    assert runner.exits.get_nowait() == StepExit(ref, EXIT_INTERRUPTED, "exited with code 130")
    await events_until(client, "q-stop", EventName.INTERRUPTED)
    await runner.stop(ref)  # already gone: no error, nothing reported twice
    assert runner.exits.empty()


async def test_a_hung_step_goes_quiet_and_is_killed_after_the_grace(
    runner: LocalRunner, client: ControlClient
) -> None:
    ref = await runner.launch(dummy("q-hang", "--hang-after", "0.5"))
    await events_until(client, "q-hang", EventName.STARTED)
    await asyncio.sleep(1)  # it hangs 0.5 s after its start
    before = await events_during(client, "q-hang", 0.5)
    assert await events_during(client, "q-hang", 1.5) == []  # several loading intervals

    started = time.monotonic()
    await runner.stop(ref, grace_s=1)
    assert time.monotonic() - started >= 1
    assert runner.exits.get_nowait() == StepExit(ref, -signal.SIGKILL, "killed by SIGKILL")
    assert not any(e.is_terminal for e in before)


async def test_a_second_runner_adopts_a_running_step_and_stops_it(
    make_runner: Callable[[], LocalRunner], client: ControlClient
) -> None:
    first, second = make_runner(), make_runner()
    try:
        ref = await first.launch(dummy("q-adopt"))
        await events_until(client, "q-adopt", EventName.STARTED)
        await first.close(stop_running=False)
        assert first.tracked() == set()

        assert await second.adopt(ref)
        assert second.tracked() == {ref}
        await second.stop(ref, grace_s=WAIT_S)
        assert second.exits.get_nowait() == StepExit(ref, None, UNOBSERVED)
        await events_until(client, "q-adopt", EventName.INTERRUPTED)
        assert first.exits.empty()
        assert not await second.adopt(ref)  # gone: nothing to adopt, nothing reported
        assert second.exits.empty()
    finally:
        await second.close(stop_running=True)
        await first.close(stop_running=True)


async def test_adopt_refuses_other_processes_and_malformed_refs(runner: LocalRunner) -> None:
    ref = await runner.launch(dummy("q-refs"))
    _, pid, start_ticks = ref.split(":")
    other = LocalRunner(runner.log_dir)
    for wrong in (
        f"local:{pid}:{int(start_ticks) + 1}",  # same pid, another process (pid reused)
        "local:999999999:1",
        "local:12:x",
        "local:-1:5",
        "kubernetes:job/q-refs-work-1",
        "",
    ):
        assert not await other.adopt(wrong), wrong
    assert other.tracked() == set()
    assert other.exits.empty()
    assert await runner.adopt(ref)  # already tracked: still tracked once
    assert runner.tracked() == {ref}


async def test_a_step_name_that_leaves_the_log_directory_is_refused(
    runner: LocalRunner,
) -> None:
    for step in ("../elsewhere", "a/b", ".."):
        with pytest.raises(ValueError, match="not usable as a file name"):
            await runner.launch(dummy("q-path", step=step))
    assert runner.tracked() == set()


async def test_close_stops_every_step_and_leaves_no_process(
    runner: LocalRunner, client: ControlClient
) -> None:
    queue_ids = {f"q-close-{n}" for n in range(3)}
    refs = {await runner.launch(dummy(queue_id)) for queue_id in queue_ids}

    async def all_started() -> None:
        async for event in client.events():
            if event.event is EventName.STARTED:
                queue_ids.discard(event.queue_id)
                if not queue_ids:
                    return

    await asyncio.wait_for(all_started(), WAIT_S)
    await runner.close(stop_running=True)

    assert runner.tracked() == set()
    exits = [runner.exits.get_nowait() for _ in refs]
    assert runner.exits.empty()
    assert {e.ref for e in exits} == refs
    assert {e.code for e in exits} == {EXIT_INTERRUPTED}
    assert not [ref for ref in refs if exists(ref)]

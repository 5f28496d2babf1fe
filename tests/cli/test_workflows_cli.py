"""The headless workflow commands against a real queue-manager: what operators and CI see."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from streamforge.config import Settings
from tests.processes import streamforge
from tests.services.queue_manager.helpers import QueueManagerProcess, env_for

pytestmark = pytest.mark.kafka


async def test_submit_wait_follows_a_workflow_and_jobs_and_job_show_it(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    env = env_for(settings, tmp_path)
    with QueueManagerProcess(settings, tmp_path):
        code, out, err = await streamforge(
            env, "submit", "workflow", "chain", "-p", "seconds=1", "--queue-id", "c-1", "--wait"
        )
        jobs_code, jobs_out, _ = await streamforge(env, "jobs", "--json")
        job_code, job_out, _ = await streamforge(env, "job", "c-1")
        table_code, table_out, _ = await streamforge(env, "jobs")

    assert code == 0, err
    assert out.splitlines() == ["c-1", "c-1 succeeded"]
    progress = err.splitlines()  # not a terminal: one plain line per change
    assert progress[-1].startswith("c-1 succeeded [####")
    assert any("first=running" in line for line in progress)
    assert jobs_code == 0
    [listed] = json.loads(jobs_out)
    assert (listed["queue_id"], listed["status"]) == ("c-1", "succeeded")
    assert [s["name"] for s in listed["steps"]] == ["first", "second"]
    assert job_code == 0
    assert "status     succeeded" in job_out
    assert "step_succeeded" in job_out and "workflow_succeeded" in job_out
    assert table_code == 0 and "c-1" in table_out and "first:succeeded" in table_out


async def test_a_rejected_submission_exits_2_with_the_reason(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    env = env_for(settings, tmp_path)
    with QueueManagerProcess(settings, tmp_path):
        code, _, err = await streamforge(
            env,
            *("submit", "backfill", "--symbol", "BTCUSDT"),
            *("--from", "2024-08-31", "--to", "2024-08-01"),
        )
        json_code, json_out, _ = await streamforge(
            env, "submit", "workflow", "nope", "--json", "--wait"
        )
        stop_code, _, stop_err = await streamforge(env, "stop", "not-a-workflow")

    assert code == 2
    assert "rejected: params.from: from must be before to" in err
    assert json_code == 2
    answer = json.loads(json_out)
    assert answer["status"] == "rejected" and answer["field"] == "payload.workflow"
    assert stop_code == 2 and "no workflow 'not-a-workflow'" in stop_err


async def test_without_a_queue_manager_submit_says_so_and_fails(
    platform_settings: Settings, tmp_path: Path
) -> None:
    settings = platform_settings
    code, _, err = await streamforge(
        env_for(settings, tmp_path),
        "submit",
        "live",
        "--symbols",
        "ETHUSDT",
        "--answer-timeout",
        "2",
    )

    assert code == 1
    assert "no answer from the queue-manager" in err


def test_bad_times_are_refused_before_anything_is_sent() -> None:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "streamforge", "submit", "backfill", "--symbol", "BTCUSDT"),
            *("--from", "yesterday", "--to", "2024-08-01"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 2
    assert "not an ISO date" in result.stderr


def test_the_headless_commands_never_import_textual() -> None:
    probe = (
        "import sys; from streamforge.cli.main import cli; "
        "assert not [m for m in sys.modules if m.split('.')[0] == 'textual'], 'textual imported'"
    )

    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)

    assert result.returncode == 0, result.stderr

"""The ``streamforge-tui`` command line, up to the point where the app would start."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tui.app import StreamForgeApp, main, parse_args


@pytest.fixture(autouse=True)
def no_settings_from_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Only the file given with ``--config`` counts in these tests."""
    for name in os.environ:
        if name.startswith("STREAMFORGE_"):
            monkeypatch.delenv(name)


def test_flags_are_optional() -> None:
    args = parse_args([])
    assert (args.config, args.queue_id, args.workflows) == (None, None, [])
    assert (args.watchlist, args.depth, args.theme, args.start_screen) == (None,) * 4
    args = parse_args(["--config", "sf.toml", "--queue-id", "q1", "--screen", "jobs"])
    assert (args.config, args.queue_id, args.start_screen) == ("sf.toml", "q1", "jobs")


@pytest.mark.parametrize(
    ("content", "names"),
    [
        ('[kafka]\nbootstrap = "no-port"\n', "STREAMFORGE_KAFKA_BOOTSTRAP"),
        ("topic_prefix = [1, 2\n", "not valid TOML"),
        ('surprise = "x"\n', "unknown setting"),
        ('[console]\ntheme = "neon"\n', "[console] theme in"),
    ],
)
def test_a_bad_setting_is_one_error_line_and_exit_1(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    content: str,
    names: str,
) -> None:
    def never_run(self: StreamForgeApp) -> None:
        raise AssertionError("the app must not start")

    monkeypatch.setattr(StreamForgeApp, "run", never_run)
    config = tmp_path / "streamforge.toml"
    config.write_text(content)
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config)])
    assert exited.value.code == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("error: ")
    assert names in err
    assert err.count("\n") == 1
    assert "Traceback" not in err


def test_a_missing_config_file_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(tmp_path / "absent.toml")])
    assert exited.value.code == 1
    assert capsys.readouterr().err.startswith("error: STREAMFORGE_CONFIG: cannot read")


def test_settings_and_filter_reach_the_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[StreamForgeApp] = []

    def fake_run(self: StreamForgeApp) -> None:
        started.append(self)

    monkeypatch.setattr(StreamForgeApp, "run", fake_run)
    config = tmp_path / "streamforge.toml"
    config.write_text('topic_prefix = "dev."\n[kafka]\nbootstrap = "kafka.local:9093"\n')
    with pytest.raises(SystemExit) as exited:
        main(["--config", str(config), "--queue-id", "q7"])
    assert exited.value.code == 0
    (app,) = started
    assert app.settings.topic("queue-events") == "dev.queue-events"
    assert app.feed.queue_id == "q7"
    assert app.sub_title == "kafka.local:9093 (dev.), queue q7"


def test_console_settings_and_workflows_reach_the_app(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started: list[StreamForgeApp] = []

    def fake_run(self: StreamForgeApp) -> None:
        started.append(self)

    monkeypatch.setattr(StreamForgeApp, "run", fake_run)
    monkeypatch.setenv("STREAMFORGE_CONSOLE_THEME", "nord")
    config = tmp_path / "streamforge.toml"
    config.write_text('[console]\nwatchlist = ["ETHUSDT"]\ndepth = 5\n')
    flows = tmp_path / "flows.yaml"
    flows.write_text(
        "version: 1\nworkflows:\n  hello:\n    steps:\n      one: {service: dummy-service}\n"
    )
    with pytest.raises(SystemExit):
        main(["--config", str(config), "--workflows", str(flows), "--watchlist", "solusdt"])
    (app,) = started
    assert (app.config.watchlist, app.config.depth, app.config.theme) == (("SOLUSDT",), 5, "nord")
    assert app.theme == "nord"
    assert app.catalog.names() == ["backfill", "hello", "live"]


def test_a_bad_workflows_file_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    flows = tmp_path / "flows.yaml"
    flows.write_text("version: 1\nworkflows:\n  Bad_Name:\n    steps: {}\n")
    with pytest.raises(SystemExit) as exited:
        main(["--workflows", str(flows)])
    assert exited.value.code == 1
    err = capsys.readouterr().err
    assert err.startswith(f"error: {flows}: workflow 'Bad_Name'")
    assert err.count("\n") == 1

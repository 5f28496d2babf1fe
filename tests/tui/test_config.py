"""The console's config: defaults, the ``[console]`` table, env and flags, in that order."""

from __future__ import annotations

from pathlib import Path

import pytest

from streamforge.config import SettingsError, load_settings
from tui.config import ConsoleConfig, load_console_config


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


def test_without_any_setting_the_defaults_hold() -> None:
    assert load_console_config({}) == ConsoleConfig(
        watchlist=("BTCUSDT", "ETHUSDT"), depth=10, theme="textual-dark", start_screen="market"
    )


def test_the_console_table_sits_in_the_services_settings_file(tmp_path: Path) -> None:
    settings_file = write(
        tmp_path / "streamforge.toml",
        'topic_prefix = "dev."\n'
        "[console]\n"
        'watchlist = ["solusdt", "BTCUSDT"]\n'
        "depth = 20\n"
        'theme = "nord"\n'
        'start_screen = "jobs"\n',
    )
    assert load_console_config({}, settings_file=settings_file) == ConsoleConfig(
        watchlist=("SOLUSDT", "BTCUSDT"), depth=20, theme="nord", start_screen="jobs"
    )
    assert load_settings(env={}, config_file=settings_file).topic_prefix == "dev.", (
        "the services read the same file and leave the table to the console"
    )


def test_a_console_file_of_its_own_replaces_that_table(tmp_path: Path) -> None:
    settings_file = write(tmp_path / "streamforge.toml", '[console]\ntheme = "nord"\n')
    own = write(tmp_path / "console.toml", '[console]\nwatchlist = "ethusdt"\n')
    by_flag = load_console_config({}, settings_file=settings_file, console_file=own)
    by_env = load_console_config(
        {"STREAMFORGE_CONSOLE_CONFIG": str(own)}, settings_file=settings_file
    )
    assert by_flag == by_env == ConsoleConfig(watchlist=("ETHUSDT",))


def test_env_overrides_the_file_and_flags_override_env(tmp_path: Path) -> None:
    settings_file = write(tmp_path / "streamforge.toml", "[console]\ndepth = 5\n")
    env = {
        "STREAMFORGE_CONSOLE_DEPTH": "15",
        "STREAMFORGE_CONSOLE_WATCHLIST": "ADAUSDT,XRPUSDT",
        "STREAMFORGE_CONSOLE_THEME": "dracula",
        "STREAMFORGE_CONSOLE_START_SCREEN": "jobs",
    }
    flags = {"watchlist": "dogeusdt", "depth": None, "theme": "gruvbox", "start_screen": None}
    assert load_console_config(env, settings_file=settings_file, flags=flags) == ConsoleConfig(
        watchlist=("DOGEUSDT",), depth=15, theme="gruvbox", start_screen="jobs"
    )


@pytest.mark.parametrize(
    ("env", "flags", "table", "error"),
    [
        (
            {"STREAMFORGE_CONSOLE_DEPTH": "0"},
            {},
            "",
            "STREAMFORGE_CONSOLE_DEPTH: must be a whole number from 1 to 100, got '0'",
        ),
        (
            {},
            {"start_screen": "logs"},
            "",
            "--screen: must be one of market, jobs, got 'logs'",
        ),
        (
            {},
            {"watchlist": "BTC/USDT"},
            "",
            "--watchlist: not a symbol (2-30 letters or digits, e.g. BTCUSDT): 'BTC/USDT'",
        ),
        (
            {},
            {},
            'theme = "neon"',
            "STREAMFORGE_CONFIG: [console] theme in {file}: must be a Textual theme (",
        ),
        ({}, {}, "depth = true", "STREAMFORGE_CONFIG: [console] depth in {file}: must be a"),
        ({}, {}, "colour = 1", "STREAMFORGE_CONFIG: unknown setting [console] 'colour' in {file}"),
    ],
)
def test_a_bad_value_is_one_line_saying_where_it_came_from(
    tmp_path: Path, env: dict[str, str], flags: dict[str, str], table: str, error: str
) -> None:
    settings_file = write(tmp_path / "streamforge.toml", f"[console]\n{table}\n")
    with pytest.raises(SettingsError) as raised:
        load_console_config(env, settings_file=settings_file, flags=flags)
    message = str(raised.value)
    assert message.startswith(error.format(file=settings_file))
    assert "\n" not in message


def test_a_console_table_must_be_a_table(tmp_path: Path) -> None:
    settings_file = write(tmp_path / "streamforge.toml", 'console = "jobs"\n')
    with pytest.raises(SettingsError, match=r"\[console\] in .* must be a table"):
        load_console_config({}, settings_file=settings_file)

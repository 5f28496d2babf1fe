"""The console's own settings: the watchlist and the layout, from TOML, env and flags.

Precedence, lowest first: built-in defaults; the ``[console]`` table of a file of its own
(``--console-config`` or ``STREAMFORGE_CONSOLE_CONFIG``), else of the settings file the
services use (``streamforge.toml``); ``STREAMFORGE_CONSOLE_*`` environment variables; flags of
``streamforge-tui``. A bad value raises :class:`~streamforge.config.SettingsError` whose one-line
message says where the value came from::

    [console]
    watchlist = ["BTCUSDT", "ETHUSDT"]  # or "BTCUSDT,ETHUSDT"
    depth = 10                          # order book levels a side on the market screen
    theme = "nord"                      # any built-in Textual theme
    start_screen = "jobs"               # market | jobs
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from textual.constants import DEFAULT_THEME
from textual.theme import BUILTIN_THEMES

from streamforge.config import SettingsError, read_config_file
from streamforge.orchestration.params import InvalidParam, ParamType, parse_param

#: The screens the console can open with.
SCREENS = ("market", "jobs")
#: The most order book levels a side the market screen shows.
MAX_DEPTH = 100
#: Environment variable naming a console config file of its own.
CONFIG_ENV = "STREAMFORGE_CONSOLE_CONFIG"
#: Command-line flag of each setting.
FLAGS = {
    "watchlist": "--watchlist",
    "depth": "--depth",
    "theme": "--theme",
    "start_screen": "--screen",
}


@dataclass(frozen=True)
class ConsoleConfig:
    """What the console shows and how.

    Attributes:
        watchlist: Symbols the market screen follows, in order.
        depth: Order book levels a side on the market screen.
        theme: The Textual theme.
        start_screen: The screen shown first (``market`` or ``jobs``).
    """

    watchlist: tuple[str, ...] = ("BTCUSDT", "ETHUSDT")
    depth: int = 10
    theme: str = DEFAULT_THEME
    start_screen: str = "market"


def _watchlist(value: object) -> tuple[str, ...]:
    try:
        return tuple(parse_param("watchlist", ParamType.SYMBOLS, value))
    except InvalidParam as exc:
        raise ValueError(exc.reason) from None


def _depth(value: object) -> int:
    number = int(value) if isinstance(value, str) and value.isdigit() else value
    if isinstance(number, bool) or not isinstance(number, int) or not 1 <= number <= MAX_DEPTH:
        raise ValueError(f"must be a whole number from 1 to {MAX_DEPTH}, got {value!r}")
    return number


def _one_of(choices: Collection[str], listing: Callable[[object], str]) -> Callable[[object], str]:
    """A parser accepting one of ``choices``; ``listing`` words the error for a bad value."""

    def parse(value: object) -> str:
        if not isinstance(value, str) or value not in choices:
            raise ValueError(listing(value))
        return value

    return parse


_theme = _one_of(
    BUILTIN_THEMES, lambda _: f"must be a Textual theme ({', '.join(sorted(BUILTIN_THEMES))})"
)
_screen = _one_of(SCREENS, lambda value: f"must be one of {', '.join(SCREENS)}, got {value!r}")


_PARSERS: dict[str, Callable[[object], Any]] = {
    "watchlist": _watchlist,
    "depth": _depth,
    "theme": _theme,
    "start_screen": _screen,
}


def _parse(
    values: dict[str, Any], given: Mapping[str, object], where: Callable[[str], str]
) -> None:
    """Parse ``given`` into ``values``; ``where(key)`` names a value's source in errors."""
    for key, raw in given.items():
        if raw is None:
            continue
        try:
            values[key] = _PARSERS[key](raw.strip() if isinstance(raw, str) else raw)
        except ValueError as exc:
            raise SettingsError(f"{where(key)}: {exc}") from None


def _file_table(path: Path, name: str) -> dict[str, object]:
    table = read_config_file(path, name).get("console", {})
    if not isinstance(table, dict):
        raise SettingsError(f"{name}: [console] in {path} must be a table")
    unknown = sorted(set(table) - set(_PARSERS))
    if unknown:
        raise SettingsError(f"{name}: unknown setting [console] {unknown[0]!r} in {path}")
    return table


def load_console_config(
    env: Mapping[str, str],
    *,
    settings_file: Path | None = None,
    console_file: str | Path | None = None,
    flags: Mapping[str, object | None] | None = None,
) -> ConsoleConfig:
    """The console config from the files, ``env`` and ``flags`` (keyed by setting name).

    Args:
        env: The environment (``STREAMFORGE_CONSOLE_*``).
        settings_file: The services' settings file, read when no console file is named.
        console_file: A console config file of its own (else ``$STREAMFORGE_CONSOLE_CONFIG``).
        flags: Values given on the command line; ``None`` means not given.
    """
    values: dict[str, Any] = {}
    console_file = console_file or env.get(CONFIG_ENV) or None
    path = settings_file if console_file is None else Path(console_file)
    name = "STREAMFORGE_CONFIG" if console_file is None else CONFIG_ENV
    if path is not None:
        _parse(values, _file_table(path, name), lambda key: f"{name}: [console] {key} in {path}")
    env_names = {key: f"STREAMFORGE_CONSOLE_{key.upper()}" for key in _PARSERS}
    _parse(
        values,
        {key: env[var] for key, var in env_names.items() if env.get(var)},
        env_names.__getitem__,
    )
    _parse(values, dict(flags or {}), FLAGS.__getitem__)
    return dataclasses.replace(ConsoleConfig(), **values)

"""What every sub-command shares: settings, one-line errors and running coroutines."""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

import click
from aiokafka.errors import KafkaConnectionError, KafkaError

from streamforge import eventloop
from streamforge.bus import TopicError
from streamforge.config import Settings, SettingsError, load_settings
from streamforge.schemas import ContractError

P = ParamSpec("P")
R = TypeVar("R")

#: Errors that end a command with one clear line instead of a traceback.
EXPECTED_ERRORS: tuple[type[Exception], ...] = (
    SettingsError,
    ContractError,
    TopicError,
    KafkaError,
    OSError,
    LookupError,
    ValueError,
)


def settings_from(ctx: click.Context) -> Settings:
    """The settings for this invocation (``--config`` on the root command, then env)."""
    root = ctx.find_root()
    cached = root.meta.get("streamforge.settings")
    if cached is None:
        try:
            cached = load_settings(config_file=root.params.get("config"))
        except SettingsError as exc:
            raise click.ClickException(str(exc)) from None
        root.meta["streamforge.settings"] = cached
    assert isinstance(cached, Settings)
    return cached


def run_async(coro: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine (on uvloop where available), turning expected failures into a one-line
    ``error: ...``."""
    try:
        return eventloop.run(coro)
    except KafkaConnectionError as exc:
        raise click.ClickException(f"cannot reach Kafka: {exc}") from None
    except EXPECTED_ERRORS as exc:
        raise click.ClickException(str(exc) or type(exc).__name__) from None


def async_command(func: Callable[P, Coroutine[Any, Any, R]]) -> Callable[P, R]:
    """Decorate an ``async def`` click callback so that it runs with :func:`run_async`."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        return run_async(func(*args, **kwargs))

    return wrapper

"""One settings object for every component, from defaults, ``streamforge.toml`` and env.

Precedence, lowest first: built-in defaults, the TOML file (``STREAMFORGE_CONFIG`` or
``./streamforge.toml``), then ``STREAMFORGE_*`` environment variables. A secret may also come
from a file named by ``<VAR>_FILE`` (how Kubernetes mounts Secrets). A bad value raises
:class:`SettingsError` whose one-line message names the setting.
"""

from __future__ import annotations

import dataclasses
import os
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from streamforge.config.secrets import Secret, secret_url

ENV_PREFIX = "STREAMFORGE_"
SECURITY_PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
SASL_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512", "PLAIN")
COMPRESSION_TYPES = ("none", "gzip", "lz4", "zstd", "snappy")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")


class SettingsError(ValueError):
    """A setting has a bad value; ``str()`` is one line naming it."""


def default_data_dir() -> Path:
    """The user's data directory for StreamForge (``$XDG_DATA_HOME/streamforge``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "streamforge"


def _choice(options: tuple[str, ...], upper: bool = True) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        value = raw.upper() if upper else raw.lower()
        if value not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {raw!r}")
        return value

    return parse


def _port(raw: str) -> int:
    value = int(raw) if raw.isdigit() else -1
    if not 0 <= value <= 65535:
        raise ValueError(f"must be a port number 0-65535, got {raw!r}")
    return value


def _positive_int(raw: str) -> int:
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"must be a positive integer, got {raw!r}")
    return int(raw)


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.netloc:
            raise ValueError(f"must be a {'/'.join(schemes)} URL, got {raw!r}")
        return raw.rstrip("/")

    return parse


def _bootstrap(raw: str) -> str:
    servers = [s.strip() for s in raw.split(",") if s.strip()]
    if not servers:
        raise ValueError("must list at least one host:port")
    for server in servers:
        host, sep, port = server.rpartition(":")
        if not sep or not host or not port.isdigit():
            raise ValueError(f"must be host:port[,host:port...], got {server!r}")
    return ",".join(servers)


def _existing_file(raw: str) -> str:
    if not Path(raw).is_file():
        raise ValueError(f"file not found: {raw}")
    return raw


def _topic_prefix(raw: str) -> str:
    if raw and not all(c.isalnum() or c in "._-" for c in raw):
        raise ValueError(f"may hold only letters, digits, '.', '_' and '-', got {raw!r}")
    return raw


def _store_url(raw: str) -> str:
    scheme = urlsplit(raw).scheme
    if scheme not in ("sqlite", "arango", "arangos"):
        raise ValueError(f"must start with sqlite:/// or arango://, got scheme {scheme!r}")
    return raw


def _setting(
    default: Any = None,
    parse: Callable[[str], Any] | None = None,
    secret: bool = False,
    factory: Callable[[], Any] | None = None,
) -> Any:
    metadata = {"parse": parse, "secret": secret}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class KafkaSettings:
    """How clients reach and authenticate to the Kafka cluster."""

    bootstrap: str = _setting("127.0.0.1:9092", _bootstrap)
    security_protocol: str = _setting("PLAINTEXT", _choice(SECURITY_PROTOCOLS))
    sasl_mechanism: str = _setting("SCRAM-SHA-512", _choice(SASL_MECHANISMS))
    sasl_username: str | None = _setting(None)
    sasl_password: Secret | None = _setting(None, secret=True)
    ssl_cafile: str | None = _setting(None, _existing_file)
    ssl_certfile: str | None = _setting(None, _existing_file)
    ssl_keyfile: str | None = _setting(None, _existing_file)
    ssl_key_password: Secret | None = _setting(None, secret=True)
    ssl_check_hostname: bool = _setting(True)
    compression: str = _setting("zstd", _choice(COMPRESSION_TYPES, upper=False))
    client_id: str = _setting("streamforge")
    replication_factor: int = _setting(1, _positive_int)

    def __post_init__(self) -> None:
        if self.security_protocol.startswith("SASL") and not (
            self.sasl_username and self.sasl_password
        ):
            raise SettingsError(
                "STREAMFORGE_KAFKA_SASL_USERNAME/STREAMFORGE_KAFKA_SASL_PASSWORD: "
                f"required when STREAMFORGE_KAFKA_SECURITY_PROTOCOL={self.security_protocol}"
            )


@dataclass(frozen=True)
class BinanceSettings:
    """Base URLs of the Binance spot endpoints (point them at the simulator for tests)."""

    rest_url: str = _setting("https://api.binance.com", _url("http", "https"))
    ws_url: str = _setting("wss://stream.binance.com:9443", _url("ws", "wss"))
    data_url: str = _setting("https://data.binance.vision/data", _url("http", "https"))


@dataclass(frozen=True)
class Settings:
    """Every StreamForge setting; build it with :func:`load_settings`."""

    kafka: KafkaSettings = field(default_factory=KafkaSettings)
    binance: BinanceSettings = field(default_factory=BinanceSettings)
    topic_prefix: str = _setting("", _topic_prefix)
    data_dir: Path = _setting(factory=default_data_dir)
    store_url: Secret = _setting(None, _store_url, secret=True)
    log_level: str = _setting("INFO", _choice(LOG_LEVELS))
    metrics_port: int = _setting(0, _port)

    def __post_init__(self) -> None:
        if cast("Secret | None", self.store_url) is None:
            object.__setattr__(
                self, "store_url", secret_url(f"sqlite:///{self.data_dir / 'streamforge.db'}")
            )

    def topic(self, name: str) -> str:
        """The full name of topic ``name`` under this deployment's prefix."""
        return f"{self.topic_prefix}{name}"


_SECTIONS = {"kafka": KafkaSettings, "binance": BinanceSettings}
#: Tables of the same file that other components read (the console's ``[console]``).
FOREIGN_TABLES = frozenset({"console"})


def _parse_value(env_name: str, fld: dataclasses.Field[Any], raw: Any) -> Any:
    parse: Callable[[str], Any] | None = fld.metadata.get("parse")
    try:
        if isinstance(raw, str):
            text = raw.strip()
        elif isinstance(raw, bool | int | float):
            text = str(raw).lower() if isinstance(raw, bool) else str(raw)
        else:
            raise ValueError(f"must be a string or number, got {type(raw).__name__}")
        if fld.type in ("bool", bool):
            if text.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(f"must be true or false, got {raw!r}")
            return text.lower() in ("1", "true", "yes")
        if fld.type in ("Path", Path):
            return Path(text).expanduser()
        value = parse(text) if parse else text
        if fld.metadata.get("secret"):
            return secret_url(value) if fld.name == "store_url" else Secret(value)
        return value
    except ValueError as exc:
        raise SettingsError(f"{env_name}: {exc}") from None


def read_config_file(path: Path, name: str = "STREAMFORGE_CONFIG") -> dict[str, Any]:
    """The parsed TOML file at ``path``; errors name it as ``name``."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except OSError as exc:
        raise SettingsError(f"{name}: cannot read {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"{name}: {path} is not valid TOML: {exc}") from None


def _values_for(
    cls: type[Any], section: str | None, toml: Mapping[str, Any], env: Mapping[str, str]
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    known = {f.name for f in dataclasses.fields(cls)}
    for key in toml:
        foreign = section is None and key in FOREIGN_TABLES
        if key not in known and key not in _SECTIONS and not foreign:
            where = f"[{section}] " if section else ""
            raise SettingsError(f"STREAMFORGE_CONFIG: unknown setting {where}{key!r}")
    for fld in dataclasses.fields(cls):
        if fld.name in _SECTIONS:
            continue
        env_name = ENV_PREFIX + "_".join(p for p in (section, fld.name) if p).upper()
        raw: Any = toml.get(fld.name)
        if env_name in env:
            raw = env[env_name]
        file_var = f"{env_name}_FILE"
        if fld.metadata.get("secret") and file_var in env:
            try:
                raw = Path(env[file_var]).read_text().strip()
            except OSError as exc:
                raise SettingsError(f"{file_var}: cannot read: {exc.strerror}") from None
        if raw is not None and raw != "":
            values[fld.name] = _parse_value(env_name, fld, raw)
    return values


def config_path(env: Mapping[str, str], config_file: str | Path | None = None) -> Path | None:
    """The settings file in use: ``config_file``, else ``STREAMFORGE_CONFIG``, else
    ``./streamforge.toml`` if it exists."""
    if config_file is not None:
        return Path(config_file)
    if env.get("STREAMFORGE_CONFIG"):
        return Path(env["STREAMFORGE_CONFIG"])
    if Path("streamforge.toml").is_file():
        return Path("streamforge.toml")
    return None


def load_settings(
    env: Mapping[str, str] | None = None, config_file: str | Path | None = None
) -> Settings:
    """Build :class:`Settings` from defaults, the TOML file and the environment."""
    env = os.environ if env is None else env
    path = config_path(env, config_file)
    toml = read_config_file(path) if path is not None else {}
    sections: dict[str, Any] = {}
    for name, cls in _SECTIONS.items():
        table = toml.get(name, {})
        if not isinstance(table, dict):
            raise SettingsError(f"STREAMFORGE_CONFIG: [{name}] must be a table")
        sections[name] = cls(**_values_for(cls, name, table, env))
    return Settings(**sections, **_values_for(Settings, None, toml, env))

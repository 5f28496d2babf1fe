"""Configuration: one settings object from env and ``streamforge.toml``; secrets stay masked."""

from streamforge.config.secrets import Secret, redact, secret_url
from streamforge.config.settings import (
    BinanceSettings,
    KafkaSettings,
    Settings,
    SettingsError,
    default_data_dir,
    load_settings,
)

__all__ = [
    "BinanceSettings",
    "KafkaSettings",
    "Secret",
    "Settings",
    "SettingsError",
    "default_data_dir",
    "load_settings",
    "redact",
    "secret_url",
]

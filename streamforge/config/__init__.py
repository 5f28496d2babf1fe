"""Configuration: one settings object from env and ``streamforge.toml``; secrets stay masked."""

from streamforge.config.secrets import Secret, redact, secret_url
from streamforge.config.settings import (
    BinanceSettings,
    KafkaSettings,
    Settings,
    SettingsError,
    config_path,
    default_data_dir,
    load_settings,
    read_config_file,
)

__all__ = [
    "BinanceSettings",
    "KafkaSettings",
    "Secret",
    "Settings",
    "SettingsError",
    "config_path",
    "default_data_dir",
    "load_settings",
    "read_config_file",
    "redact",
    "secret_url",
]

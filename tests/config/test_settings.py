"""Settings come from defaults, streamforge.toml and env; bad values fail naming the setting."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from streamforge.config import Secret, SettingsError, load_settings
from streamforge.services.logs import JsonFormatter


def test_defaults_need_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(env={"XDG_DATA_HOME": str(tmp_path)})
    assert settings.kafka.bootstrap == "127.0.0.1:9092"
    assert settings.kafka.security_protocol == "PLAINTEXT"
    assert settings.binance.rest_url == "https://api.binance.com"
    assert settings.topic("md.trades") == "md.trades"
    assert settings.store_url.reveal().startswith("sqlite:///")


def test_env_overrides_toml_which_overrides_defaults(tmp_path: Path) -> None:
    config = tmp_path / "streamforge.toml"
    config.write_text(
        'topic_prefix = "staging."\n'
        "[kafka]\n"
        'bootstrap = "kafka-1:9092,kafka-2:9092"\n'
        'client_id = "from-toml"\n'
        "[binance]\n"
        'rest_url = "http://127.0.0.1:9000"\n'
    )
    settings = load_settings(env={"STREAMFORGE_KAFKA_CLIENT_ID": "from-env"}, config_file=config)
    assert settings.kafka.bootstrap == "kafka-1:9092,kafka-2:9092"
    assert settings.kafka.client_id == "from-env"
    assert settings.binance.rest_url == "http://127.0.0.1:9000"
    assert settings.topic("queue-events") == "staging.queue-events"


def test_config_file_named_by_env(tmp_path: Path) -> None:
    config = tmp_path / "custom.toml"
    config.write_text('log_level = "DEBUG"\n')
    assert load_settings(env={"STREAMFORGE_CONFIG": str(config)}).log_level == "DEBUG"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"STREAMFORGE_KAFKA_BOOTSTRAP": "no-port"}, "STREAMFORGE_KAFKA_BOOTSTRAP: must be"),
        ({"STREAMFORGE_KAFKA_SECURITY_PROTOCOL": "TLS"}, "STREAMFORGE_KAFKA_SECURITY_PROTOCOL:"),
        ({"STREAMFORGE_METRICS_PORT": "70000"}, "STREAMFORGE_METRICS_PORT: must be a port"),
        ({"STREAMFORGE_BINANCE_WS_URL": "http://x"}, "STREAMFORGE_BINANCE_WS_URL: must be a ws"),
        ({"STREAMFORGE_STORE_URL": "mysql://x"}, "STREAMFORGE_STORE_URL: must start with"),
        ({"STREAMFORGE_KAFKA_SSL_CAFILE": "/nonexistent/ca.pem"}, "STREAMFORGE_KAFKA_SSL_CAFILE"),
        ({"STREAMFORGE_TOPIC_PREFIX": "a b"}, "STREAMFORGE_TOPIC_PREFIX"),
        ({"STREAMFORGE_KAFKA_SECURITY_PROTOCOL": "SASL_SSL"}, "STREAMFORGE_KAFKA_SASL_USERNAME"),
    ],
)
def test_bad_value_fails_with_one_line_naming_the_setting(
    env: dict[str, str], message: str
) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env=env)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_unknown_toml_key_is_named(tmp_path: Path) -> None:
    config = tmp_path / "streamforge.toml"
    config.write_text('[kafka]\nbootstrapp = "x:1"\n')
    with pytest.raises(SettingsError, match="unknown setting \\[kafka\\] 'bootstrapp'"):
        load_settings(env={}, config_file=config)


def test_invalid_toml_is_reported(tmp_path: Path) -> None:
    config = tmp_path / "streamforge.toml"
    config.write_text("[kafka\n")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(env={}, config_file=config)


SASL_ENV = {
    "STREAMFORGE_KAFKA_SECURITY_PROTOCOL": "sasl_ssl",
    "STREAMFORGE_KAFKA_SASL_MECHANISM": "scram-sha-256",
    "STREAMFORGE_KAFKA_SASL_USERNAME": "svc",
    "STREAMFORGE_KAFKA_SASL_PASSWORD": "s3cr3t-kafka",
    "STREAMFORGE_STORE_URL": "arango://root:s3cr3t-arango@arango:8529/streamforge",
}


def test_secrets_are_masked_in_repr_and_str() -> None:
    settings = load_settings(env=SASL_ENV)
    assert settings.kafka.security_protocol == "SASL_SSL"
    assert settings.kafka.sasl_mechanism == "SCRAM-SHA-256"
    text = repr(settings) + str(settings.kafka.sasl_password) + str(settings.store_url)
    assert "s3cr3t" not in text
    assert "arango://root:***@arango:8529/streamforge" in text
    assert settings.kafka.sasl_password == Secret("s3cr3t-kafka")
    assert settings.store_url.reveal().endswith("root:s3cr3t-arango@arango:8529/streamforge")


def test_secrets_are_masked_in_log_lines() -> None:
    settings = load_settings(env=SASL_ENV)
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, "connecting with %s to %s", None, None
    )
    record.args = (settings.kafka.sasl_password.reveal(), "https://u:hunter2@example/x")  # type: ignore[union-attr]
    line = JsonFormatter().format(record)
    assert "s3cr3t-kafka" not in line
    assert "hunter2" not in line


def test_secret_may_come_from_a_file(tmp_path: Path) -> None:
    password = tmp_path / "password"
    password.write_text("from-file\n")
    env = {**SASL_ENV, "STREAMFORGE_KAFKA_SASL_PASSWORD_FILE": str(password)}
    settings = load_settings(env=env)
    assert settings.kafka.sasl_password is not None
    assert settings.kafka.sasl_password.reveal() == "from-file"


def test_the_console_table_is_left_to_the_console_but_only_at_the_top(tmp_path: Path) -> None:
    config = tmp_path / "streamforge.toml"
    config.write_text('[console]\ntheme = "nord"\n[kafka]\nbootstrap = "k:9092"\n')
    assert load_settings(env={}, config_file=config).kafka.bootstrap == "k:9092"
    config.write_text('[kafka]\nconsole = "nord"\n')
    with pytest.raises(SettingsError, match="unknown setting \\[kafka\\] 'console'"):
        load_settings(env={}, config_file=config)

"""Client options shared by every Kafka client: bootstrap servers and security."""

from __future__ import annotations

from typing import Any

from aiokafka.helpers import create_ssl_context

from streamforge.config import Settings


def client_options(settings: Settings) -> dict[str, Any]:
    """Keyword arguments for any aiokafka client, from the Kafka settings.

    Supports PLAINTEXT, SSL (CA file, optional client certificate) and SASL_SSL or
    SASL_PLAINTEXT with SCRAM-SHA-256/512 or PLAIN.
    """
    kafka = settings.kafka
    options: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap,
        "security_protocol": kafka.security_protocol,
        "client_id": kafka.client_id,
    }
    if kafka.security_protocol in ("SSL", "SASL_SSL"):
        context = create_ssl_context(
            cafile=kafka.ssl_cafile,
            certfile=kafka.ssl_certfile,
            keyfile=kafka.ssl_keyfile,
            password=kafka.ssl_key_password.reveal() if kafka.ssl_key_password else None,
        )
        context.check_hostname = kafka.ssl_check_hostname
        options["ssl_context"] = context
    if kafka.security_protocol.startswith("SASL"):
        options["sasl_mechanism"] = kafka.sasl_mechanism
        options["sasl_plain_username"] = kafka.sasl_username
        options["sasl_plain_password"] = (
            kafka.sasl_password.reveal() if kafka.sasl_password else None
        )
    return options

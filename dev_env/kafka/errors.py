"""Errors of the local Kafka environment; each ``str()`` is one line an operator can act on."""

from __future__ import annotations


class KafkaEnvError(RuntimeError):
    """The local Kafka environment cannot do what was asked."""


class JavaError(KafkaEnvError):
    """No suitable Java runtime to run the broker."""


class KafkaDistributionError(KafkaEnvError):
    """The broker's jars can be neither found nor fetched."""


class BrokerStartError(KafkaEnvError):
    """The broker did not become ready; the log tail is attached as exception notes."""


class BrokerAlreadyRunningError(KafkaEnvError):
    """A broker already runs on this data dir."""


class BrokerNotRunningError(KafkaEnvError):
    """No broker runs on this data dir."""


class BrokerStopError(KafkaEnvError):
    """The broker process would not exit."""


class KafkaContainerError(KafkaEnvError):
    """The Kafka container could not be started."""

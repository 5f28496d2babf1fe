"""A local single-node Apache Kafka (KRaft) for development and tests, without Docker."""

from dev_env.kafka.broker import LocalKafka, default_kafka_dir
from dev_env.kafka.container import start_kafka_container
from dev_env.kafka.distribution import (
    KAFKA_VERSION,
    KafkaDistribution,
    default_dist_dir,
    resolve_distribution,
)
from dev_env.kafka.errors import (
    BrokerAlreadyRunningError,
    BrokerNotRunningError,
    BrokerStartError,
    BrokerStopError,
    JavaError,
    KafkaContainerError,
    KafkaDistributionError,
    KafkaEnvError,
)
from dev_env.kafka.state import BrokerState
from dev_env.kafka.testing import kafka_for_tests, shared_dist_env

__all__ = [
    "KAFKA_VERSION",
    "BrokerAlreadyRunningError",
    "BrokerNotRunningError",
    "BrokerStartError",
    "BrokerState",
    "BrokerStopError",
    "JavaError",
    "KafkaContainerError",
    "KafkaDistribution",
    "KafkaDistributionError",
    "KafkaEnvError",
    "LocalKafka",
    "default_dist_dir",
    "default_kafka_dir",
    "kafka_for_tests",
    "resolve_distribution",
    "shared_dist_env",
    "start_kafka_container",
]

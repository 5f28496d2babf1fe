"""The Kafka bus: idempotent producer, commit-after-effect consumer, dead letters, topics."""

from streamforge.bus.connection import client_options
from streamforge.bus.consumer import Batch, BusConsumer, ConsumerOptions, Handler
from streamforge.bus.dlq import DeadLetterQueue, dlq_topic
from streamforge.bus.producer import BusProducer, ProducerError, ProducerOptions
from streamforge.bus.topics import (
    TopicError,
    TopicSpec,
    dead_letter_spec,
    ensure_topics,
    list_topics,
    platform_topics,
    workflow_data_topic,
)

__all__ = [
    "Batch",
    "BusConsumer",
    "BusProducer",
    "ConsumerOptions",
    "DeadLetterQueue",
    "Handler",
    "ProducerError",
    "ProducerOptions",
    "TopicError",
    "TopicSpec",
    "client_options",
    "dead_letter_spec",
    "dlq_topic",
    "ensure_topics",
    "list_topics",
    "platform_topics",
    "workflow_data_topic",
]

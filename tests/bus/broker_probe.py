"""Asks the broker itself what a producer did, instead of trusting client-side flags.

Kafka's DescribeProducers API (KIP-664, API key 61) lists, per partition, the producer ids
the broker holds idempotence state for, with their last sequence numbers. A producer without
idempotence never appears there.
"""

from __future__ import annotations

from dataclasses import dataclass

from aiokafka import AIOKafkaClient
from aiokafka.protocol.api import Request, RequestStruct, Response
from aiokafka.protocol.types import (
    CompactArray,
    CompactString,
    Int16,
    Int32,
    Int64,
    Schema,
    TaggedFields,
)
from aiokafka.structs import TopicPartition


class DescribeProducersResponse_v0(Response):  # noqa: N801 - Kafka's naming
    API_KEY = 61
    API_VERSION = 0
    SCHEMA = Schema(
        ("throttle_time_ms", Int32),
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                (
                    "partitions",
                    CompactArray(
                        ("partition_index", Int32),
                        ("error_code", Int16),
                        ("error_message", CompactString("utf-8")),
                        (
                            "active_producers",
                            CompactArray(
                                ("producer_id", Int64),
                                ("producer_epoch", Int32),
                                ("last_sequence", Int32),
                                ("last_timestamp", Int64),
                                ("coordinator_epoch", Int32),
                                ("current_txn_start_offset", Int64),
                                ("tags", TaggedFields),
                            ),
                        ),
                        ("tags", TaggedFields),
                    ),
                ),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class DescribeProducersRequest_v0(RequestStruct):  # noqa: N801 - Kafka's naming
    FLEXIBLE_VERSION = True
    API_KEY = 61
    API_VERSION = 0
    RESPONSE_TYPE = DescribeProducersResponse_v0
    SCHEMA = Schema(
        (
            "topics",
            CompactArray(
                ("name", CompactString("utf-8")),
                ("partition_indexes", CompactArray(Int32)),
                ("tags", TaggedFields),
            ),
        ),
        ("tags", TaggedFields),
    )


class DescribeProducersRequest(Request[DescribeProducersRequest_v0]):
    API_KEY = 61

    def __init__(self, tp: TopicPartition) -> None:
        self._tp = tp

    def build(
        self, request_struct_class: type[DescribeProducersRequest_v0]
    ) -> DescribeProducersRequest_v0:
        return request_struct_class([(self._tp.topic, [self._tp.partition], {})], {})


@dataclass(frozen=True)
class ActiveProducer:
    producer_id: int
    producer_epoch: int
    last_sequence: int


async def active_producers(bootstrap: str, tp: TopicPartition) -> list[ActiveProducer]:
    """The producers the partition leader tracks idempotence state for."""
    client = AIOKafkaClient(bootstrap_servers=bootstrap)
    await client.bootstrap()
    try:
        await client._wait_on_metadata(tp.topic)
        leader = client.cluster.leader_for_partition(tp)
        response = await client.send(leader, DescribeProducersRequest(tp))
    finally:
        await client.close()
    ((_, partitions, _),) = response.topics
    ((_, error_code, error_message, producers, _),) = partitions
    if error_code:
        raise RuntimeError(f"DescribeProducers failed: {error_code} {error_message}")
    return [ActiveProducer(p[0], p[1], p[2]) for p in producers]

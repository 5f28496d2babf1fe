"""The topic catalogue and its idempotent creation."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import NoError, TopicAlreadyExistsError, for_code

from streamforge.bus.connection import client_options
from streamforge.bus.dlq import dlq_topic
from streamforge.config import Settings

DAY_MS = 24 * 3600 * 1000

CONTROL = "queue-control"
EVENTS = "queue-events"
TRADES = "md.trades"
DEPTH = "md.depth"
BBO = "md.bbo"
BOOK = "md.book"
CANDLES = "md.candles"
TICKER = "md.ticker"
MARKET_DATA = (TRADES, DEPTH, BBO, BOOK, CANDLES, TICKER)


class TopicError(RuntimeError):
    """The cluster refused to create a topic."""


@dataclass(frozen=True)
class TopicSpec:
    """A topic with its partitions and retention; ``name`` excludes the deployment prefix."""

    name: str
    partitions: int = 1
    cleanup_policy: str = "delete"
    retention_ms: int | None = 7 * DAY_MS
    config: dict[str, str] = field(default_factory=dict)

    def configs(self) -> dict[str, str]:
        """Topic configs as Kafka expects them."""
        configs = {"cleanup.policy": self.cleanup_policy, **self.config}
        if self.retention_ms is not None:
            configs["retention.ms"] = str(self.retention_ms)
        return configs


def platform_topics(market_partitions: int = 6) -> list[TopicSpec]:
    """Every topic the platform uses, with a dead-letter topic beside each data topic."""
    specs = [
        TopicSpec(CONTROL, partitions=1, retention_ms=7 * DAY_MS),
        # The event log is the source of workflow state: keep it.
        TopicSpec(EVENTS, partitions=3, retention_ms=None, config={"retention.ms": "-1"}),
        TopicSpec(TRADES, partitions=market_partitions),
        TopicSpec(DEPTH, partitions=market_partitions, retention_ms=DAY_MS),
        TopicSpec(BBO, partitions=market_partitions, retention_ms=DAY_MS),
        TopicSpec(
            BOOK,
            partitions=market_partitions,
            cleanup_policy="compact",
            retention_ms=None,
            config={"min.cleanable.dirty.ratio": "0.1", "segment.ms": "600000"},
        ),
        TopicSpec(CANDLES, partitions=market_partitions),
        TopicSpec(TICKER, partitions=market_partitions, retention_ms=DAY_MS),
    ]
    return specs + [dead_letter_spec(s.name) for s in specs]


def dead_letter_spec(name: str) -> TopicSpec:
    """The dead-letter topic of topic ``name`` (without prefix): ``<name>.dlq``."""
    return TopicSpec(dlq_topic(name), partitions=1, retention_ms=30 * DAY_MS)


def workflow_data_topic(queue_id: str) -> TopicSpec:
    """The topic holding one workflow's historical data: ``wf-<queue_id>-data``."""
    return TopicSpec(f"wf-{queue_id}-data", partitions=3, retention_ms=30 * DAY_MS)


async def ensure_topics(settings: Settings, specs: Iterable[TopicSpec]) -> list[str]:
    """Create every missing topic (under the settings' prefix); return the names created.

    Existing topics are left as they are, so this is safe to run on every start.
    """
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                settings.topic(spec.name),
                num_partitions=spec.partitions,
                replication_factor=settings.kafka.replication_factor,
                topic_configs=spec.configs(),
            )
            for spec in specs
            if settings.topic(spec.name) not in existing
        ]
        if not missing:
            return []
        response = await admin.create_topics(missing, timeout_ms=30_000)
        created: list[str] = []
        for name, code, *rest in response.topic_errors:
            error = for_code(code)
            if error is NoError:
                created.append(name)
            elif error is not TopicAlreadyExistsError:
                detail = rest[0] if rest and rest[0] else error.__name__
                raise TopicError(f"cannot create topic {name}: {detail}")
        return sorted(created)
    finally:
        await admin.close()


async def list_topics(settings: Settings) -> list[str]:
    """Names of the cluster's topics under the settings' prefix, sorted."""
    admin = AIOKafkaAdminClient(**client_options(settings))
    await admin.start()
    try:
        names = await admin.list_topics()
    finally:
        await admin.close()
    return sorted(n for n in names if n.startswith(settings.topic_prefix))

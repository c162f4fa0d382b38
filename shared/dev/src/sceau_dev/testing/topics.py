"""Look at what a Kafka topic holds, from a test; drop a run's topics once it is over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

__all__ = ["drop_topics", "record_values", "records_on"]


@asynccontextmanager
async def _from_start(bootstrap_servers: str, topic: str) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def records_on(bootstrap_servers: str, topic: str, *, wait_ms: int = 2000) -> int:
    """How many records the physical ``topic`` holds (read from the start, waiting ``wait_ms``)."""
    async with _from_start(bootstrap_servers, topic) as consumer:
        batch = await consumer.getmany(timeout_ms=wait_ms)
    return sum(len(records) for records in batch.values())


async def record_values(bootstrap_servers: str, topic: str, *, wait_ms: int = 3000) -> list[bytes]:
    """Every record value of the physical ``topic``, from the start until ``wait_ms`` of quiet."""
    values: list[bytes] = []
    async with _from_start(bootstrap_servers, topic) as consumer:
        while batch := await consumer.getmany(timeout_ms=wait_ms):
            values.extend(r.value for records in batch.values() for r in records if r.value)
    return values


async def drop_topics(bootstrap_servers: str, prefix: str) -> list[str]:
    """Delete every topic whose name starts with ``prefix`` (a finished run's); their names.

    A benchmark's services name their topics with a prefix of their own, and a broker that
    keeps them pays for them at rest: after a test run had left ~1,600 partitions, the
    development broker used 4.7 % of a core doing nothing, half of it in its metrics thread
    (which walks every partition), and the next benchmark measured that as part of Kafka's cost
    per credential (docs/benchmarks.md). Only for topics nobody consumes any more: call it after
    the run's services stopped. An empty prefix is refused (it would name every topic of the
    cluster).
    """
    if not prefix:
        raise ValueError("a prefix is required: an empty one names every topic")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        names = sorted(name for name in await admin.list_topics() if name.startswith(prefix))
        if names:
            await admin.delete_topics(names)
        return names
    finally:
        await admin.close()

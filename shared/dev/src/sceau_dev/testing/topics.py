"""Look at what a Kafka topic holds, from a test."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaConsumer

__all__ = ["record_values", "records_on"]


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

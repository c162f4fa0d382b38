"""Look at what a Kafka topic holds, from a test."""

from __future__ import annotations

from aiokafka import AIOKafkaConsumer

__all__ = ["records_on"]


async def records_on(bootstrap_servers: str, topic: str, *, wait_ms: int = 2000) -> int:
    """How many records the physical ``topic`` holds (read from the start, waiting ``wait_ms``)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        batch = await consumer.getmany(timeout_ms=wait_ms)
    finally:
        await consumer.stop()
    return sum(len(records) for records in batch.values())

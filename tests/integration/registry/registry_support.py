"""Helpers shared by the registry integration tests (fixtures stay in conftest.py)."""

from __future__ import annotations

import asyncio
from typing import Any

from aiokafka import AIOKafkaConsumer

from sceau_dev.testing.topics import records_on
from sceau_shared.events import Event
from sceau_shared.settings import KafkaSettings

OPERATOR_TOKEN = "integration-operator-token-0123456789"
OPERATOR = {"Authorization": f"Bearer {OPERATOR_TOKEN}", "X-Sceau-Actor": "alice"}


async def nothing_on(kafka_settings: KafkaSettings, event_type: type[Event]) -> bool:
    """True if the event type's topic holds no message (waits a little to be sure)."""
    topic = kafka_settings.topic(event_type.TOPIC)
    return await records_on(kafka_settings.bootstrap_servers, topic) == 0


async def consume(
    kafka_settings: KafkaSettings, event_type: type[Event], count: int, *, within: float = 30.0
) -> list[Any]:
    """Read ``count`` events of a type from the start of its (test-private) topic."""
    consumer = AIOKafkaConsumer(
        kafka_settings.topic(event_type.TOPIC),
        bootstrap_servers=kafka_settings.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    out: list[Any] = []
    try:
        while len(out) < count:
            record = await asyncio.wait_for(consumer.getone(), timeout=within)
            out.append(event_type.model_validate_json(record.value))
    finally:
        await consumer.stop()
    return out

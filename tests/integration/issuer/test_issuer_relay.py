"""The issuer's targeted relays: a leased document found by the sweep is retried, not forgotten."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from aiokafka import AIOKafkaConsumer

from sceau_dev.testing.relays import running, wait_published
from sceau_dev.testing.sample_events import revocation
from sceau_issuer.relay import TargetedOutboxRelay
from sceau_shared.events import CredentialStatusChangedV1
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.outbox import LEASES_COLLECTION, outbox_push

pytestmark = pytest.mark.integration


def _event(n: int) -> CredentialStatusChangedV1:
    return revocation(f"cred-{n}", reason_code="issued_in_error")


async def test_sweep_retries_a_document_leased_by_a_dead_process(
    kafka_settings, mongo_client, mongo_settings
):
    db = mongo_client[mongo_settings.database]
    chunks = db["batch_chunks"]
    events = [_event(n) for n in range(3)]
    await chunks.insert_one({"_id": "b:00000", "state": "done"})
    await chunks.update_one({"_id": "b:00000"}, outbox_push(*events))
    # The process that wrote the chunk died while relaying it: its lease is still live.
    await db[LEASES_COLLECTION].insert_one(
        {"_id": "batch_chunks:b:00000", "until": datetime.now(UTC) + timedelta(seconds=2)}
    )
    broker = create_broker(kafka_settings, client_id="relay-test")
    async with broker:
        await broker.connect()
        publisher = EventPublisher(broker, kafka_settings, producer="t")
        # A long sweep interval: only the start-up sweep runs during this test.
        relay = TargetedOutboxRelay(chunks, publisher, sweep_interval_s=3600)
        async with running(relay):
            await wait_published(relay, 3)
    assert relay.published == 3
    consumer = AIOKafkaConsumer(
        kafka_settings.topic(CredentialStatusChangedV1.TOPIC),
        bootstrap_servers=kafka_settings.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        got = set()
        while len(got) < 3:
            record = await asyncio.wait_for(consumer.getone(), timeout=20)
            got.add(CredentialStatusChangedV1.model_validate_json(record.value).event_id)
    finally:
        await consumer.stop()
    assert got == {e.event_id for e in events}

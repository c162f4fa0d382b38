"""Business counters and Kafka consumer lag, read back from an in-memory metric reader."""

import asyncio
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from sceau_dev.testing.metrics import metric_points
from sceau_dev.testing.polling import eventually
from sceau_shared.events import CredentialStatusChangedV1, StatusChange
from sceau_shared.kafka import EventPublisher, create_broker, subscribe_event
from sceau_shared.metrics import BusinessMetrics, ConsumerLag

pytestmark = pytest.mark.integration


def test_business_counters():
    reader = InMemoryMetricReader()
    metrics = BusinessMetrics.create(MeterProvider(metric_readers=[reader]), "test")
    metrics.issued.add(3, {"profile": "ob3-v2", "mode": "batch"})
    metrics.verifications.add(1, {"outcome": "verified"})
    metrics.verifications.add(2, {"outcome": "not-verified"})
    issued = metric_points(reader, "sceau.credentials.issued")
    assert [p.value for p in issued] == [3]
    by_outcome = {
        p.attributes["outcome"]: p.value for p in metric_points(reader, "sceau.verifications")
    }
    assert by_outcome == {"verified": 1, "not-verified": 2}


async def test_consumer_lag_is_measured(kafka_settings):
    reader = InMemoryMetricReader()
    provider = MeterProvider(metric_readers=[reader])
    broker = create_broker(kafka_settings, client_id="lag-test")
    publisher = EventPublisher(broker, kafka_settings, producer="lag-test")
    release = asyncio.Event()
    handled = 0

    @subscribe_event(
        broker,
        CredentialStatusChangedV1,
        settings=kafka_settings,
        group_id=f"{kafka_settings.client_id}.lag",
        publisher=publisher,
    )
    async def slow(_: CredentialStatusChangedV1) -> None:
        nonlocal handled
        await release.wait()
        handled += 1

    lag = ConsumerLag(broker)
    lag.register(provider, "test")
    async with broker:
        await broker.start()
        for i in range(5):
            await publisher.publish(
                CredentialStatusChangedV1(
                    producer="t",
                    credential_id=f"c{i}",
                    institution_id="i",
                    issuer_did="did:key:z",
                    change=StatusChange.REVOKED,
                    reason_code="r",
                    effective_at=datetime.now(UTC),
                )
            )

        async def lag_of_four() -> int:
            total = sum((await lag.sample()).values())
            return total if total >= 4 else 0

        # One message is being handled, the rest wait.
        seen = await eventually(lag_of_four, timeout_s=10, message="a consumer lag of 4")
        gauge = metric_points(reader, "sceau.kafka.consumer.lag")
        assert sum(p.value for p in gauge) == seen
        release.set()
        await eventually(lambda: handled == 5, timeout_s=5, message="the five events handled")


async def test_outbox_relay_counts_published_business_events(
    kafka_settings, mongo_client, mongo_settings
):
    from sceau_shared.events import CredentialIssuedV1
    from sceau_shared.outbox import OutboxRelay, outbox_push

    reader = InMemoryMetricReader()
    metrics = BusinessMetrics.create(MeterProvider(metric_readers=[reader]), "test")
    coll = mongo_client[mongo_settings.database]["credentials"]
    now = datetime.now(UTC)
    issued = CredentialIssuedV1(
        producer="t",
        credential_id="c1",
        institution_id="i",
        issuer_did="did:key:z",
        achievement_id="a",
        achievement_version=1,
        achievement_type="Badge",
        profile="ob3-v2",
        issued_at=now,
    )
    revoked = CredentialStatusChangedV1(
        producer="t",
        credential_id="c1",
        institution_id="i",
        issuer_did="did:key:z",
        change=StatusChange.REVOKED,
        reason_code="r",
        effective_at=now,
    )
    await coll.insert_one({"_id": "c1"})
    await coll.update_one({"_id": "c1"}, outbox_push(issued, revoked))
    broker = create_broker(kafka_settings, client_id="metrics-relay")
    async with broker:
        await broker.connect()
        relay = OutboxRelay([coll], EventPublisher(broker, kafka_settings, producer="t"))
        relay.metrics = metrics
        assert await relay.drain_once() == 2
    assert [p.value for p in metric_points(reader, "sceau.credentials.issued")] == [1]
    changes = metric_points(reader, "sceau.credentials.status_changed")
    assert [(p.attributes["change"], p.value) for p in changes] == [("revoked", 1)]

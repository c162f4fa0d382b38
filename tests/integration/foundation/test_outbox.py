"""The embedded outbox: state change and event commit together; the relay publishes them."""

import asyncio
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer

from sceau_dev.testing.relays import running, wait_published
from sceau_shared.events import CredentialStatusChangedV1, StatusChange
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.outbox import OutboxRelay, outbox_push

pytestmark = pytest.mark.integration


def event(i: int) -> CredentialStatusChangedV1:
    return CredentialStatusChangedV1(
        producer="test",
        credential_id="cred-1",
        institution_id="i",
        issuer_did="did:key:z",
        change=StatusChange.SUSPENDED if i % 2 else StatusChange.REINSTATED,
        reason_code=f"r{i}",
        effective_at=datetime.now(UTC),
    )


async def consume(kafka_settings, count: int) -> list[CredentialStatusChangedV1]:
    consumer = AIOKafkaConsumer(
        kafka_settings.topic(CredentialStatusChangedV1.TOPIC),
        bootstrap_servers=kafka_settings.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    out = []
    try:
        while len(out) < count:
            record = await asyncio.wait_for(consumer.getone(), timeout=30)
            out.append(CredentialStatusChangedV1.model_validate_json(record.value))
    finally:
        await consumer.stop()
    return out


class FailingAfterFirst(EventPublisher):
    """Publishes one entry, then 'crashes' (the broker got it but the outbox was not trimmed)."""

    def __init__(self, inner: EventPublisher) -> None:
        self.__dict__.update(inner.__dict__)
        self.calls = 0

    async def publish_raw(self, **kwargs) -> None:
        self.calls += 1
        if self.calls > 1:
            raise ConnectionError("crash")
        await super().publish_raw(**kwargs)


class TestOutboxRelay:
    async def test_events_are_relayed_in_order_and_marked(
        self, kafka_settings, mongo_client, mongo_settings
    ):
        coll = mongo_client[mongo_settings.database]["credentials"]
        await coll.insert_one({"_id": "cred-1", "status": "active"})
        events = [event(i) for i in range(4)]
        await coll.update_one(
            {"_id": "cred-1"}, {"$set": {"status": "suspended"}} | outbox_push(*events)
        )
        broker = create_broker(kafka_settings, client_id="relay")
        async with broker:
            await broker.connect()
            relay = OutboxRelay([coll], EventPublisher(broker, kafka_settings, producer="t"))
            await relay.ensure_indexes()
            assert await relay.drain_once() == 4
            assert await relay.drain_once() == 0
        received = await consume(kafka_settings, 4)
        assert [e.event_id for e in received] == [e.event_id for e in events]
        # The relay never writes to the aggregate: published entries are marked on the side.
        doc = await coll.find_one({"_id": "cred-1"})
        assert doc["status"] == "suspended"
        assert "outbox_lease_until" not in doc
        markers = mongo_client[mongo_settings.database]["outbox_published"]
        assert await markers.count_documents({}) == 4
        # A fresh relay (after a restart) finds nothing left to send.
        async with broker:
            await broker.connect()
            again = OutboxRelay([coll], EventPublisher(broker, kafka_settings, producer="t"))
            assert await again.drain_once() == 0

    async def test_a_crash_mid_relay_loses_nothing(
        self, kafka_settings, mongo_client, mongo_settings
    ):
        coll = mongo_client[mongo_settings.database]["credentials"]
        events = [event(i) for i in range(3)]
        await coll.insert_one({"_id": "cred-1"} | {"outbox": []})
        await coll.update_one({"_id": "cred-1"}, outbox_push(*events))
        broker = create_broker(kafka_settings, client_id="relay")
        async with broker:
            await broker.connect()
            good = EventPublisher(broker, kafka_settings, producer="t")
            crashing = OutboxRelay([coll], FailingAfterFirst(good), lease_s=0.0)
            with pytest.raises(ConnectionError):
                await crashing.drain_once()
            # The first entry was published and marked; the rest wait for the next relay.
            markers = mongo_client[mongo_settings.database]["outbox_published"]
            assert [m["_id"] async for m in markers.find({})] == [str(events[0].event_id)]
            relay = OutboxRelay([coll], good, poll_interval_s=0.05)
            async with running(relay):
                await wait_published(relay, 2)
        received = await consume(kafka_settings, 3)
        assert {e.event_id for e in received} == {e.event_id for e in events}

    async def test_relaying_never_loses_a_concurrent_state_change(
        self, kafka_settings, mongo_client, mongo_settings
    ):
        # FerretDB 1.24 updates are non-atomic read-modify-writes: a relay that wrote to the
        # aggregate (trim, lease) while the service updates it could erase the service's write.
        coll = mongo_client[mongo_settings.database]["institutions"]
        await coll.insert_one({"_id": "inst-1", "changes": []})
        broker = create_broker(kafka_settings, client_id="relay")
        async with broker:
            await broker.connect()
            relay = OutboxRelay(
                [coll], EventPublisher(broker, kafka_settings, producer="t"), poll_interval_s=0.01
            )
            async with running(relay):
                for i in range(30):
                    push = outbox_push(event(i))["$push"] | {"changes": i}
                    await coll.update_one({"_id": "inst-1"}, {"$push": push})
                    relay.wake()
                    await asyncio.sleep(0.01)
                await wait_published(relay, 30)
        doc = await coll.find_one({"_id": "inst-1"})
        assert doc["changes"] == list(range(30))
        assert relay.published == 30


def keyed(credential_id: str, reason: str) -> CredentialStatusChangedV1:
    return CredentialStatusChangedV1(
        producer="test",
        credential_id=credential_id,
        institution_id="i",
        issuer_did="did:key:z",
        change=StatusChange.SUSPENDED,
        reason_code=reason,
        effective_at=datetime.now(UTC),
    )


class FailingForKey(EventPublisher):
    """Refuses every publication of one key (a broker error for that partition, say)."""

    def __init__(self, inner: EventPublisher, key: str) -> None:
        self.__dict__.update(inner.__dict__)
        self.refused = key.encode()
        self.sent: list[bytes] = []

    async def publish_raw(self, **kwargs) -> None:
        if kwargs["key"] == self.refused:
            raise ConnectionError("partition unavailable")
        self.sent.append(kwargs["key"])
        await super().publish_raw(**kwargs)


class TestConcurrentRelay:
    async def test_different_keys_go_together_and_each_key_keeps_its_order(
        self, kafka_settings, mongo_client, mongo_settings
    ):
        coll = mongo_client[mongo_settings.database]["batch_chunks"]
        first = [keyed(f"cred-{n}", "first") for n in range(6)]
        later = [keyed("cred-0", "second"), keyed("cred-0", "third"), keyed("cred-3", "second")]
        await coll.insert_one({"_id": "chunk-1", "state": "done"})
        await coll.update_one({"_id": "chunk-1"}, outbox_push(*first, *later))
        broker = create_broker(kafka_settings, client_id="relay")
        async with broker:
            await broker.connect()
            good = EventPublisher(broker, kafka_settings, producer="t")
            failing = FailingForKey(good, "cred-3")
            with pytest.raises(ConnectionError):
                await OutboxRelay([coll], failing, lease_s=0.0).drain_once()
            # The first wave went out except cred-3; the later waves were not attempted, so
            # cred-3's second event cannot overtake its first.
            assert sorted(failing.sent) == sorted(f"cred-{n}".encode() for n in range(6) if n != 3)
            markers = mongo_client[mongo_settings.database]["outbox_published"]
            marked = {m["_id"] async for m in markers.find({})}
            assert marked == {str(e.event_id) for e in first if e.credential_id != "cred-3"}
            relay = OutboxRelay([coll], good)
            assert await relay.drain_once() == 4
            assert await relay.drain_once() == 0
        received = await consume(kafka_settings, 9)
        by_key: dict[str, list[str]] = {}
        for item in received:
            by_key.setdefault(item.credential_id, []).append(item.reason_code)
        assert by_key["cred-0"] == ["first", "second", "third"]
        assert by_key["cred-3"] == ["first", "second"]
        assert len(received) == 9

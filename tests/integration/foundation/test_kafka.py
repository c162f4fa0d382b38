"""Produce and consume on the real broker through the shared plumbing."""

import asyncio

import pytest
from aiokafka import AIOKafkaConsumer

from sceau_dev.testing.polling import eventually
from sceau_dev.testing.sample_events import revocation
from sceau_shared.events import CredentialStatusChangedV1, DeadLetterV1
from sceau_shared.kafka import EventPublisher, create_broker, subscribe_event

pytestmark = pytest.mark.integration


def make_event(i: int) -> CredentialStatusChangedV1:
    return revocation(f"c-{i}", institution_id="i-1")


class TestConsumeAfterHandling:
    async def test_failed_handler_is_retried_and_commits_only_after_success(self, kafka_settings):
        group = f"{kafka_settings.client_id}.g"
        handled: list[str] = []
        failures = {"c-1": 1}

        def build():
            broker = create_broker(kafka_settings, client_id=kafka_settings.client_id)
            publisher = EventPublisher(broker, kafka_settings, producer="test")

            @subscribe_event(
                broker,
                CredentialStatusChangedV1,
                settings=kafka_settings,
                group_id=group,
                publisher=publisher,
                retry_delay_s=0.05,
            )
            async def handle(event: CredentialStatusChangedV1) -> None:
                if failures.get(event.credential_id, 0) > 0:
                    failures[event.credential_id] -= 1
                    raise RuntimeError("transient")
                handled.append(event.credential_id)

            return broker, publisher

        broker, publisher = build()
        async with broker:
            await broker.start()
            for i in range(3):
                await publisher.publish(make_event(i))
            await eventually(
                lambda: len(handled) == 3, timeout_s=30, message="three events handled"
            )
        # c-1 failed once and was delivered again; every message handled once after success.
        assert sorted(handled) == ["c-0", "c-1", "c-2"]

        # A new consumer in the same group sees nothing again: offsets were committed.
        handled.clear()
        broker, publisher = build()
        async with broker:
            await broker.start()
            await publisher.publish(make_event(9))
            await eventually(lambda: "c-9" in handled, timeout_s=30, message="c-9 handled")
        assert handled == ["c-9"]

    async def test_poison_message_goes_to_the_dead_letter_topic(self, kafka_settings):
        group = f"{kafka_settings.client_id}.dlq"
        handled: list[str] = []
        broker = create_broker(kafka_settings, client_id=kafka_settings.client_id)
        publisher = EventPublisher(broker, kafka_settings, producer="test")

        @subscribe_event(
            broker,
            CredentialStatusChangedV1,
            settings=kafka_settings,
            group_id=group,
            publisher=publisher,
        )
        async def handle(event: CredentialStatusChangedV1) -> None:
            handled.append(event.credential_id)

        topic = kafka_settings.topic(CredentialStatusChangedV1.TOPIC)
        async with broker:
            await broker.start()
            await broker.publish(b"{not json", topic=topic, key=b"x")
            await publisher.publish(make_event(1))
            await eventually(lambda: handled == ["c-1"], timeout_s=30, message="c-1 handled once")

        consumer = AIOKafkaConsumer(
            f"{topic}.dlq",
            bootstrap_servers=kafka_settings.bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), timeout=30)
        finally:
            await consumer.stop()
        letter = DeadLetterV1.model_validate_json(record.value)
        assert letter.original_topic == topic
        assert letter.payload == "{not json"
        assert letter.consumer_group == kafka_settings.group(group)

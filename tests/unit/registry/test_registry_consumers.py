"""The registry's consumers, in memory: each event reaches the graph's service that handles it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from pydantic import SecretStr
from test_registry_statuslists import published

from sceau_registry.consumers import KEYS_GROUP, STATUS_LISTS_GROUP, create_router
from sceau_registry.settings import RegistrySettings
from sceau_shared.events import (
    DeadLetterV1,
    Event,
    IssuerKeyPublishedV1,
    KeyAction,
    StatusListPublishedV1,
    dead_letter_topic,
)
from sceau_shared.kafka import EventPublisher

DID = "did:web:127.0.0.1%3A8002:institutions:cegep-a"


class Recorder:
    """Stands for a graph service: records what the consumer handed it."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    async def handle(self, event: IssuerKeyPublishedV1) -> None:
        self.events.append(event)

    async def publish(self, event: StatusListPublishedV1) -> bool:
        self.events.append(event)
        return True


def key_event() -> IssuerKeyPublishedV1:
    return IssuerKeyPublishedV1(
        producer="sceau-issuer",
        institution_id="cegep-a",
        did=DID,
        verification_method=f"{DID}#k1",
        public_key_multibase="z6MkExample",
        action=KeyAction.ADDED,
        active_from=datetime(2025, 1, 1, tzinfo=UTC),
    )


@pytest.fixture
def settings() -> RegistrySettings:
    return RegistrySettings(
        operator_token=SecretStr("t" * 32),
        master_key=SecretStr("A" * 43 + "="),
        kafka={"topic_prefix": "unit."},
    )


@pytest.fixture
def graph() -> Any:
    return SimpleNamespace(key_ingest=Recorder(), status_lists=Recorder())


@pytest.fixture
async def broker(settings: RegistrySettings, graph: Any) -> AsyncIterator[KafkaBroker]:
    broker = KafkaBroker()
    broker.include_router(create_router(settings))
    broker.context.set_global("graph", graph)
    broker.context.set_global(
        "publisher", EventPublisher(broker, settings.kafka, producer="sceau-registry")
    )
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker


async def send(broker: KafkaBroker, settings: RegistrySettings, event: Event) -> None:
    await broker.publish(event.to_bytes(), topic=settings.kafka.topic(event.TOPIC), key=event.key)


async def test_key_events_reach_the_key_ingest(
    broker: KafkaBroker, settings: RegistrySettings, graph: Any
) -> None:
    event = key_event()
    await send(broker, settings, event)
    assert graph.key_ingest.events == [event]
    assert graph.status_lists.events == []


async def test_status_list_events_reach_the_status_list_service(
    broker: KafkaBroker, settings: RegistrySettings, graph: Any
) -> None:
    event = published(3)
    await send(broker, settings, event)
    assert graph.status_lists.events == [event]
    assert graph.key_ingest.events == []


def test_each_consumer_has_its_own_group(settings: RegistrySettings) -> None:
    router = create_router(settings)
    groups = {
        name: subscriber.group_id  # type: ignore[attr-defined]
        for subscriber in router.subscribers
        for name in subscriber.topic_names  # type: ignore[attr-defined]
    }
    assert groups == {
        settings.kafka.topic(IssuerKeyPublishedV1.TOPIC): settings.kafka.group(KEYS_GROUP),
        settings.kafka.topic(StatusListPublishedV1.TOPIC): settings.kafka.group(STATUS_LISTS_GROUP),
    }
    assert KEYS_GROUP == "registry.keys"
    assert STATUS_LISTS_GROUP == "registry.status-lists"


async def test_a_poison_message_is_dead_lettered_not_handled(
    broker: KafkaBroker, settings: RegistrySettings, graph: Any
) -> None:
    topic = settings.kafka.topic(StatusListPublishedV1.TOPIC)
    letters: list[DeadLetterV1] = []

    @broker.subscriber(dead_letter_topic(topic), group_id="test.dlq")
    async def collect(body: dict[str, Any]) -> None:
        letters.append(DeadLetterV1.model_validate(body))

    await broker.start()  # the subscriber was added after the test broker started
    await broker.publish(b'{"not": "an event"}', topic=topic, key=b"L1")
    assert graph.status_lists.events == []
    assert [letter.consumer_group for letter in letters] == [
        settings.kafka.group(STATUS_LISTS_GROUP)
    ]
    assert letters[0].original_topic == topic

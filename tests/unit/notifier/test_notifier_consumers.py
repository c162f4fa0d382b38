"""The notifier's consumers in memory: FastStream's test broker, a fake graph, no Kafka.

Each test includes the real consumer router (``create_router``) in a ``TestKafkaBroker`` and hands
it a fake graph through FastStream's context, the way the service skeleton hands it the real one.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer

from sceau_notifier.consumers import create_router
from sceau_notifier.settings import ConsumerSettings, NotifierSettings
from sceau_shared.events import (
    BilingualText,
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    DeadLetterV1,
    Event,
    IssuerKeyPublishedV1,
    KeyAction,
    NotificationRequestedV1,
    StatusChange,
    VerificationCompletedV1,
    VerificationOutcome,
)
from sceau_shared.kafka import GRAPH_CONTEXT, PUBLISHER_CONTEXT
from sceau_shared.settings import KafkaSettings

NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)


@dataclass
class FakeIntake:
    """Records what the consumers hand over; can be told to fail."""

    batches: list[tuple[list[NotificationRequestedV1], bool, dict[str, Any]]] = field(
        default_factory=list
    )
    events: list[Event] = field(default_factory=list)
    fail_with: Exception | None = None

    async def notification_requests(
        self,
        events: list[NotificationRequestedV1],
        *,
        pipelined: bool = False,
        origins: Mapping[str, Mapping[str, str]] | None = None,
    ) -> int:
        if self.fail_with is not None:
            raise self.fail_with
        self.batches.append((list(events), pipelined, dict(origins or {})))
        return 0

    async def credential_issued(self, event: CredentialIssuedV1) -> None:
        self.events.append(event)

    async def credential_status_changed(self, event: CredentialStatusChangedV1) -> None:
        self.events.append(event)

    async def verification_completed(self, event: VerificationCompletedV1) -> None:
        self.events.append(event)

    async def key_published(self, event: IssuerKeyPublishedV1) -> None:
        self.events.append(event)


@dataclass
class FakeGraph:
    intake: FakeIntake
    tracer: Tracer


@dataclass
class FakePublisher:
    """Keeps the dead letters the batch consumer publishes."""

    producer: str = "sceau-notifier"
    sent: list[dict[str, Any]] = field(default_factory=list)

    async def publish_raw(
        self, *, topic: str, key: bytes | None, payload: bytes, event_id: str, event_type: str
    ) -> None:
        self.sent.append({"topic": topic, "key": key, "payload": payload, "type": event_type})


@dataclass
class Consumers:
    broker: KafkaBroker
    graph: FakeGraph
    publisher: FakePublisher
    spans: InMemorySpanExporter
    settings: NotifierSettings

    async def publish(self, event: Event) -> None:
        await self.broker.publish(
            event.to_bytes(), topic=self.settings.kafka.topic(event.TOPIC), key=event.key
        )


@pytest.fixture
async def consumers() -> AsyncIterator[Consumers]:
    settings = NotifierSettings(
        kafka=KafkaSettings(topic_prefix="unit."),
        consumer=ConsumerSettings(group_prefix="notifier-unit", retry_delay_s=0),
    )
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    graph = FakeGraph(intake=FakeIntake(), tracer=provider.get_tracer("tests"))
    publisher = FakePublisher()
    broker = KafkaBroker()
    broker.include_router(create_router(settings))
    broker.context.set_global(GRAPH_CONTEXT, graph)
    broker.context.set_global(PUBLISHER_CONTEXT, publisher)
    async with TestKafkaBroker(broker) as test_broker:
        yield Consumers(test_broker, graph, publisher, exporter, settings)


def notification(**over: Any) -> NotificationRequestedV1:
    values: dict[str, Any] = {
        "producer": "tests",
        "kind": "issued",
        "credential_id": "urn:uuid:8c1f0d4e-3d7a-4f51-9a0b-6f0c2e1d9a77",
        "institution_id": "cegep-test",
        "recipient_email": "zoe.tremblay@example.org",
        "recipient_name": "Zoé Tremblay",
        "language": "fr",
        "institution_name": BilingualText(fr="Cégep de Sainte-Foy", en="Sainte-Foy College"),
        "institution_contact": "registrariat@cegep-ste-foy.example",
        "achievement_name": BilingualText(fr="Secourisme", en="First Aid"),
        "achievement_description": BilingualText(fr="Intervenir.", en="Respond."),
        "issued_at": NOW,
        "claim_url": "https://issuer.sceau.example/v1/claim/tok123",
    }
    values.update(over)
    return NotificationRequestedV1(**values)


def issued() -> CredentialIssuedV1:
    return CredentialIssuedV1(
        producer="tests",
        credential_id="urn:uuid:2f1c",
        institution_id="cegep-test",
        issuer_did="did:web:cegep.example",
        achievement_id="ach-cpr",
        achievement_type="Certification",
        profile="ob3",
        achievement_version=1,
        issued_at=NOW,
    )


async def test_a_notification_request_reaches_the_intake_pipelined_with_its_trace(
    consumers: Consumers,
) -> None:
    event = notification()
    await consumers.publish(event)
    [(events, pipelined, origins)] = consumers.graph.intake.batches
    assert [e.event_id for e in events] == [event.event_id]
    assert pipelined is True
    # The e-mail's send continues this message's consumer span (its W3C context travels along).
    assert set(origins) == {str(event.event_id)}
    assert origins[str(event.event_id)]["traceparent"].startswith("00-")
    [span] = consumers.spans.get_finished_spans()
    assert span.kind is SpanKind.CONSUMER
    assert span.name == f"{consumers.settings.kafka.topic(event.TOPIC)} process message"
    assert span.attributes is not None
    assert span.attributes["messaging.message.id"] == str(event.event_id)


async def test_a_poison_notification_request_is_dead_lettered_never_handed_over(
    consumers: Consumers,
) -> None:
    await consumers.broker.publish(
        b'{"kind": "issued", "recipient_email": "not-an-address"}',
        topic=consumers.settings.kafka.topic(NotificationRequestedV1.TOPIC),
        key=b"bad",
    )
    [letter_sent] = consumers.publisher.sent
    assert letter_sent["topic"] == NotificationRequestedV1.TOPIC + ".dlq"
    letter = DeadLetterV1.model_validate_json(letter_sent["payload"])
    assert letter.consumer_group == consumers.settings.kafka.group("notifier-unit.emails")
    assert letter.original_key == "bad"
    assert "not-an-address" in letter.payload
    assert "not-an-address" not in letter.error
    assert consumers.graph.intake.batches == [([], True, {})]


async def test_a_failing_batch_is_raised_so_its_offsets_are_not_committed(
    consumers: Consumers,
) -> None:
    consumers.graph.intake.fail_with = RuntimeError("mongo down")
    with pytest.raises(RuntimeError, match="mongo down"):
        await consumers.publish(notification())
    [span] = consumers.spans.get_finished_spans()
    assert not span.status.is_ok


async def test_webhook_and_directory_events_reach_their_intake_method(
    consumers: Consumers,
) -> None:
    status = CredentialStatusChangedV1(
        producer="tests",
        credential_id="urn:uuid:2f1c",
        institution_id="cegep-test",
        issuer_did="did:web:cegep.example",
        change=StatusChange.REVOKED,
        reason_code="misconduct",
        effective_at=NOW,
    )
    verification = VerificationCompletedV1(
        producer="tests",
        credential_id_hash="ab" * 32,
        issuer_did="did:web:cegep.example",
        outcome=VerificationOutcome.VERIFIED,
        verified_at=NOW,
    )
    key = IssuerKeyPublishedV1(
        producer="tests",
        did="did:web:cegep.example",
        institution_id="cegep-test",
        verification_method="did:web:cegep.example#key-1",
        public_key_multibase="z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
        action=KeyAction.ADDED,
        active_from=NOW,
    )
    sent = [issued(), status, verification, key]
    for event in sent:
        await consumers.publish(event)
    assert [type(e) for e in consumers.graph.intake.events] == [type(e) for e in sent]
    assert [e.event_id for e in consumers.graph.intake.events] == [e.event_id for e in sent]
    assert consumers.graph.intake.batches == []


def test_consumer_groups_keep_their_names() -> None:
    settings = NotifierSettings(consumer=ConsumerSettings(group_prefix="notifier"))
    router = create_router(settings)
    groups = {sub.topics[0].name: sub.group_id for sub in router.subscribers}
    assert groups == {
        NotificationRequestedV1.TOPIC: "notifier.emails",
        CredentialIssuedV1.TOPIC: "notifier.webhooks.issued",
        CredentialStatusChangedV1.TOPIC: "notifier.webhooks.status",
        VerificationCompletedV1.TOPIC: "notifier.webhooks.verification",
        IssuerKeyPublishedV1.TOPIC: "notifier.issuer-dids",
    }

"""The issuer's Kafka consumers, in memory: each event reaches the graph's service.

FastStream's ``TestKafkaBroker`` routes published messages to the consumer router in-process; the
graph is a fake that records what the consumers ask of it, set in the broker's context as the
service skeleton does before the broker starts.
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, KafkaMessage, TestKafkaBroker
from pydantic import SecretStr
from pymongo.errors import ServerSelectionTimeoutError

from sceau_issuer.consumers import (
    CONTACT_BATCH,
    CONTACT_BATCH_PAUSE_S,
    CONTACT_MAX_ATTEMPTS,
    ContactBatches,
    EventBatches,
    IssuedInsightsBatches,
    create_router,
)
from sceau_issuer.settings import IssuerSettings
from sceau_shared.events import (
    AccreditationChangedV1,
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    DeadLetterV1,
    DidMethod,
    Event,
    InstitutionRegisteredV1,
    InstitutionStatus,
    NotificationKind,
    NotificationRequestedV1,
    ShareOpenedV1,
    StatusChange,
    VerificationCompletedV1,
    VerificationOutcome,
)
from sceau_shared.events.deadletter import dead_letter_topic
from sceau_shared.kafka import GRAPH_CONTEXT, PUBLISHER_CONTEXT, EventPublisher
from sceau_shared.settings import KafkaSettings


@dataclass
class FakeTenants:
    """Records the events the consumers hand to the tenant service."""

    registered: list[InstitutionRegisteredV1] = field(default_factory=list)
    accreditations: list[AccreditationChangedV1] = field(default_factory=list)

    async def register(self, event: InstitutionRegisteredV1) -> bool:
        self.registered.append(event)
        return True

    async def apply_accreditation(self, event: AccreditationChangedV1) -> bool:
        self.accreditations.append(event)
        return True


@dataclass
class FakeLearners:
    """Records the share openings the consumer hands to the learner service."""

    openings: list[ShareOpenedV1] = field(default_factory=list)
    contacts: list[NotificationRequestedV1] = field(default_factory=list)

    async def record_opening(self, event: ShareOpenedV1) -> None:
        self.openings.append(event)

    batches: list[list[NotificationRequestedV1]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    """Recipients whose indexing fails (not an outage)."""

    async def index_contacts(
        self, events: list[NotificationRequestedV1], *, deadline_s: float | None = None
    ) -> None:
        if any(str(e.recipient_email) in self.failing for e in events):
            raise RuntimeError("cannot index")
        self.batches.append(list(events))
        self.contacts.extend(events)


@dataclass
class FakeInsights:
    """Records every event handed to the insights service."""

    seen: list[Event] = field(default_factory=list)
    issued_batches: list[list[CredentialIssuedV1]] = field(default_factory=list)
    failing: set[str] = field(default_factory=set)
    """Credential ids whose counting fails (not an outage)."""

    async def credentials_issued(self, events: list[CredentialIssuedV1]) -> None:
        if any(e.credential_id in self.failing for e in events):
            raise RuntimeError("cannot count")
        self.issued_batches.append(list(events))
        self.seen.extend(events)

    async def status_changed(self, event: CredentialStatusChangedV1) -> None:
        self.seen.append(event)

    async def verification(self, event: VerificationCompletedV1) -> None:
        self.seen.append(event)


@dataclass
class FakeGraph:
    """The part of ``IssuerGraph`` the consumers use."""

    tenants: FakeTenants = field(default_factory=FakeTenants)
    learners: FakeLearners = field(default_factory=FakeLearners)
    insights: FakeInsights = field(default_factory=FakeInsights)


@dataclass
class Running:
    """The in-memory broker, the fake graph, and what reached the dead-letter topic."""

    broker: KafkaBroker
    graph: FakeGraph
    dead_letters: list[DeadLetterV1]


@pytest.fixture
def settings() -> IssuerSettings:
    return IssuerSettings(
        master_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
        kafka=KafkaSettings(topic_prefix="unit."),
    )


@pytest.fixture
async def running(settings: IssuerSettings) -> AsyncIterator[Running]:
    broker = KafkaBroker()
    broker.include_router(create_router(settings))
    graph = FakeGraph()
    broker.context.set_global(GRAPH_CONTEXT, graph)
    broker.context.set_global(
        PUBLISHER_CONTEXT, EventPublisher(broker, settings.kafka, producer="test")
    )
    dead_letters: list[DeadLetterV1] = []

    @broker.subscriber(dead_letter_topic(settings.kafka.topic(InstitutionRegisteredV1.TOPIC)))
    async def collect(message: KafkaMessage) -> None:
        dead_letters.append(DeadLetterV1.model_validate_json(bytes(message.body)))

    async with TestKafkaBroker(broker) as test_broker:
        yield Running(test_broker, graph, dead_letters)


def registered(institution_id: str) -> InstitutionRegisteredV1:
    return InstitutionRegisteredV1(
        producer="registry",
        institution_id=institution_id,
        legal_name={"fr": "Collège Test", "en": "Test College"},
        category="college",
        jurisdiction="CA-ON",
        did_method=DidMethod.KEY,
        languages=["fr", "en"],
        contact_email="registrar@college.example",
    )


async def publish(broker: KafkaBroker, settings: IssuerSettings, event: Any) -> None:
    await broker.publish(event.to_bytes(), topic=settings.kafka.topic(event.TOPIC))


async def test_an_announced_institution_becomes_a_tenant(
    running: Running, settings: IssuerSettings
) -> None:
    broker, graph = running.broker, running.graph
    event = registered("college-a")
    await publish(broker, settings, event)
    assert [e.event_id for e in graph.tenants.registered] == [event.event_id]
    assert graph.tenants.registered[0].institution_id == "college-a"
    assert graph.tenants.accreditations == []


async def test_an_accreditation_change_reaches_the_tenant_service(
    running: Running, settings: IssuerSettings
) -> None:
    broker, graph = running.broker, running.graph
    event = AccreditationChangedV1(
        producer="registry",
        institution_id="college-a",
        status=InstitutionStatus.ACTIVE,
        scopes=[],
        effective_at=datetime.now(UTC),
    )
    await publish(broker, settings, event)
    assert [e.event_id for e in graph.tenants.accreditations] == [event.event_id]
    assert graph.tenants.registered == []


async def test_a_redelivered_announcement_is_handed_over_again(
    running: Running, settings: IssuerSettings
) -> None:
    # At-least-once delivery: the consumer passes a replay on; the tenant service is idempotent.
    broker, graph = running.broker, running.graph
    event = registered("college-b")
    await publish(broker, settings, event)
    await publish(broker, settings, event)
    assert [e.event_id for e in graph.tenants.registered] == [event.event_id] * 2


async def test_a_poison_message_never_reaches_the_graph(
    running: Running, settings: IssuerSettings
) -> None:
    broker, graph = running.broker, running.graph
    topic = settings.kafka.topic(InstitutionRegisteredV1.TOPIC)
    await broker.publish(b'{"not": "an announcement"}', topic=topic)
    assert graph.tenants.registered == []
    [letter] = running.dead_letters
    assert letter.consumer_group == settings.kafka.group("issuer.tenants")
    assert letter.payload == '{"not": "an announcement"}'


def test_consumer_groups_and_topics_are_unchanged(settings: IssuerSettings) -> None:
    router = create_router(settings)
    declared = sorted(
        (sub.group_id, list(sub.topic_names))  # type: ignore[attr-defined]
        for sub in router.subscribers
    )
    assert declared == [
        (
            settings.kafka.group("issuer.accreditation"),
            [settings.kafka.topic(AccreditationChangedV1.TOPIC)],
        ),
        # Insights (issue 17): new groups, each on a topic of its own.
        (
            settings.kafka.group("issuer.insights-issued"),
            [settings.kafka.topic("issuer.credential-issued.v1")],
        ),
        (
            settings.kafka.group("issuer.insights-status"),
            [settings.kafka.topic("issuer.credential-status-changed.v1")],
        ),
        (
            settings.kafka.group("issuer.insights-verifications"),
            [settings.kafka.topic("verifier.verification-completed.v1")],
        ),
        (
            settings.kafka.group("issuer.learner-contacts"),
            [settings.kafka.topic(NotificationRequestedV1.TOPIC)],
        ),
        (
            settings.kafka.group("issuer.share-receipts"),
            [settings.kafka.topic(ShareOpenedV1.TOPIC)],
        ),
        (
            settings.kafka.group("issuer.tenants"),
            [settings.kafka.topic(InstitutionRegisteredV1.TOPIC)],
        ),
    ]


async def test_a_share_opening_reaches_the_learner_service(
    running: Running, settings: IssuerSettings
) -> None:
    broker, graph = running.broker, running.graph
    event = ShareOpenedV1(
        producer="verifier",
        share_id="s-1",
        institution_id="college-a",
        opened_at=datetime.now(UTC),
        answer="verified",
    )
    await publish(broker, settings, event)
    assert [e.event_id for e in graph.learners.openings] == [event.event_id]
    assert graph.tenants.registered == []


def issued(email: str = "lea@example.org", credential: str = "1") -> NotificationRequestedV1:
    return NotificationRequestedV1(
        producer="sceau-issuer",
        kind=NotificationKind.ISSUED,
        credential_id=f"urn:uuid:{credential}",
        institution_id="college-a",
        recipient_email=email,
        institution_name={"fr": "Collège", "en": "College"},
        achievement_name={"fr": "Titre", "en": "Title"},
        issued_at=datetime.now(UTC),
    )


async def test_an_issued_notification_feeds_the_learner_contact_index(
    running: Running, settings: IssuerSettings
) -> None:
    broker, graph = running.broker, running.graph
    event = issued()
    await publish(broker, settings, event)
    assert [e.event_id for e in graph.learners.contacts] == [event.event_id]


def credential(n: int) -> CredentialIssuedV1:
    return CredentialIssuedV1(
        producer="issuer",
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        institution_id="college-a",
        issuer_did="did:key:z6Mk",
        achievement_id="a1",
        achievement_version=1,
        achievement_type="MicroCredential",
        profile="ob3-v2",
        issued_at=datetime.now(UTC),
    )


async def test_issued_status_and_verification_events_reach_the_insights(
    running: Running, settings: IssuerSettings
) -> None:
    broker, graph = running.broker, running.graph
    now = datetime.now(UTC)
    issued = credential(0)
    revoked = CredentialStatusChangedV1(
        producer="issuer",
        credential_id=issued.credential_id,
        institution_id="college-a",
        issuer_did="did:key:z6Mk",
        change=StatusChange.REVOKED,
        reason_code="other",
        effective_at=now,
    )
    verified = VerificationCompletedV1(
        producer="verifier",
        credential_id_hash="ab" * 32,
        outcome=VerificationOutcome.VERIFIED,
        verified_at=now,
    )
    for event in (issued, revoked, verified, verified):  # the last one: a redelivery
        await publish(broker, settings, event)
    # Handed on every time: the service counts a redelivered event once (its marker).
    assert [e.event_id for e in graph.insights.seen] == [
        issued.event_id,
        revoked.event_id,
        verified.event_id,
        verified.event_id,
    ]


async def test_notification_requests_and_issued_credentials_are_handled_a_batch_at_a_time(
    running: Running, settings: IssuerSettings
) -> None:
    # One call (one insert, one offset commit) for the batch, not one per credential; the same
    # for the insights' issued credentials (one insert, one update per cell).
    broker, graph = running.broker, running.graph
    requests = [issued(f"l{n}@example.org", str(n)) for n in range(3)]
    credentials = [credential(n) for n in range(3)]
    for events in (requests, credentials):
        await broker.publish_batch(
            *(e.to_bytes() for e in events), topic=settings.kafka.topic(events[0].TOPIC)
        )
    assert [[e.event_id for e in batch] for batch in graph.learners.batches] == [
        [e.event_id for e in requests]
    ]
    assert [[e.event_id for e in batch] for batch in graph.insights.issued_batches] == [
        [e.event_id for e in credentials]
    ]


@pytest.mark.parametrize(
    ("kind", "group", "poison"),
    [
        (ContactBatches, "issuer.learner-contacts", b'{"kind": "issued"}'),
        (IssuedInsightsBatches, "issuer.insights-issued", b'{"credential_id": 1}'),
    ],
)
async def test_a_poison_message_in_a_batch_is_dead_lettered_apart(
    settings: IssuerSettings, kind: type[EventBatches[Any]], group: str, poison: bytes
) -> None:
    graph, publisher = FakeGraph(), FakePublisher()
    batches = kind(settings, sleep=no_pause)
    good = issued() if kind is ContactBatches else credential(1)
    await batches.deliver(
        FakeBatch((Record(poison, 0), Record(good.to_bytes(), 1))),  # type: ignore[arg-type]
        graph,  # type: ignore[arg-type]
        publisher,
    )
    handled = graph.learners.contacts if kind is ContactBatches else graph.insights.seen
    assert [e.event_id for e in handled] == [good.event_id]
    [letter] = publisher.letters
    assert letter.consumer_group == settings.kafka.group(group)
    assert letter.offset == 0
    assert letter.payload == poison.decode()


async def test_an_event_that_keeps_failing_alone_is_dead_lettered_and_the_rest_indexed(
    settings: IssuerSettings,
) -> None:
    graph, publisher = FakeGraph(), FakePublisher()
    graph.learners.failing.add("bad@example.org")
    batches = ContactBatches(settings, sleep=no_pause)
    events = [
        issued("a@example.org", "1"),
        issued("bad@example.org", "2"),
        issued("c@example.org", "3"),
    ]
    await given_up_on_the_failing_one(
        batches, graph, publisher, events, handled=graph.learners.contacts
    )


async def test_a_short_batch_is_followed_by_a_pause_to_gather_the_next(
    settings: IssuerSettings,
) -> None:
    pauses: list[float] = []

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    batches = ContactBatches(settings, sleep=pause)
    message = FakeBatch((Record(issued().to_bytes(), 0),))
    await batches.deliver(message, FakeGraph(), FakePublisher())  # type: ignore[arg-type]
    assert pauses == [CONTACT_BATCH_PAUSE_S]
    full = FakeBatch(
        tuple(
            Record(issued(f"l{n}@example.org", str(n)).to_bytes(), n) for n in range(CONTACT_BATCH)
        )
    )
    await batches.deliver(full, FakeGraph(), FakePublisher())  # type: ignore[arg-type]
    assert pauses == [CONTACT_BATCH_PAUSE_S]  # a full batch: more may be waiting, no pause


async def test_an_outage_rewinds_the_batch_without_dead_letters(settings: IssuerSettings) -> None:
    class Paused(FakeLearners):
        async def index_contacts(
            self, events: list[NotificationRequestedV1], *, deadline_s: float | None = None
        ) -> None:
            raise ServerSelectionTimeoutError("paused")

    graph, publisher = FakeGraph(learners=Paused()), FakePublisher()
    batches = ContactBatches(settings, sleep=no_pause)
    await outage_rewinds_without_letters(batches, graph, publisher, issued())


async def test_an_issued_event_that_keeps_failing_alone_is_dead_lettered(
    settings: IssuerSettings,
) -> None:
    graph, publisher = FakeGraph(), FakePublisher()
    events = [credential(1), credential(2), credential(3)]
    graph.insights.failing.add(events[1].credential_id)
    batches = IssuedInsightsBatches(settings, sleep=no_pause)
    await given_up_on_the_failing_one(
        batches, graph, publisher, events, handled=graph.insights.seen
    )


async def test_an_outage_while_counting_rewinds_the_batch_without_dead_letters(
    settings: IssuerSettings,
) -> None:
    class Paused(FakeInsights):
        async def credentials_issued(self, events: list[CredentialIssuedV1]) -> None:
            raise ServerSelectionTimeoutError("paused")

    graph, publisher = FakeGraph(insights=Paused()), FakePublisher()
    batches = IssuedInsightsBatches(settings, sleep=no_pause)
    await outage_rewinds_without_letters(batches, graph, publisher, credential(1))


@dataclass
class Record:
    """The part of a Kafka consumer record the contact batches read."""

    value: bytes
    offset: int
    partition: int = 0
    topic: str = "unit.notification-requested.v1"
    key: bytes = b"k"


@dataclass
class FakeBatch:
    raw_message: tuple[Record, ...]


@dataclass
class FakePublisher:
    """Collects dead letters."""

    producer: str = "sceau-issuer"
    letters: list[DeadLetterV1] = field(default_factory=list)

    async def publish_physical(
        self, *, topic: str, key: bytes, payload: bytes, headers: dict[str, str]
    ) -> None:
        assert topic.endswith(".dlq")
        self.letters.append(DeadLetterV1.model_validate_json(payload))


async def no_pause(_: float) -> None:
    return None


async def given_up_on_the_failing_one(
    batches: EventBatches[Any],
    graph: FakeGraph,
    publisher: FakePublisher,
    events: list[Any],
    *,
    handled: list[Any],
) -> None:
    """Deliver three events until the second, failing, is dead-lettered; the others handled."""
    message = FakeBatch(tuple(Record(e.to_bytes(), n) for n, e in enumerate(events)))
    for _ in range(CONTACT_MAX_ATTEMPTS - 1):
        # Redelivered (the error rewinds the batch) until the failing event is given up on.
        with pytest.raises(RuntimeError):
            await batches.deliver(message, graph, publisher)  # type: ignore[arg-type]
        assert publisher.letters == []
    await batches.deliver(message, graph, publisher)  # type: ignore[arg-type]
    [letter] = publisher.letters
    assert letter.offset == 1
    done = {e.event_id for e in handled}
    assert {events[0].event_id, events[2].event_id} <= done
    assert events[1].event_id not in done


async def outage_rewinds_without_letters(
    batches: EventBatches[Any], graph: FakeGraph, publisher: FakePublisher, event: Event
) -> None:
    """An outage rewinds the batch every time, however often, and dead-letters nothing."""
    message = FakeBatch((Record(event.to_bytes(), 0),))
    for _ in range(CONTACT_MAX_ATTEMPTS + 2):
        with pytest.raises(ServerSelectionTimeoutError):
            await batches.deliver(message, graph, publisher)  # type: ignore[arg-type]
    assert publisher.letters == []

"""The verifier's consumers in memory: events reach the graph's caches through FastStream.

``TestKafkaBroker`` routes published messages to the router's subscribers without a broker; the
graph is a fake recording what the handlers asked of its caches.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker

from sceau_shared.events import (
    AccreditationChangedV1,
    Event,
    InstitutionStatus,
    IssuerKeyPublishedV1,
    KeyAction,
    StatusListPublishedV1,
    StatusPurpose,
)
from sceau_shared.kafka import EventPublisher
from sceau_shared.settings import KafkaSettings
from sceau_verifier.consumers import create_router
from sceau_verifier.settings import VerifierSettings

URL = "https://registry.example/v1/status-lists/l1"


@dataclass
class FakeStatusLists:
    published: list[tuple[str, int, int | None]] = field(default_factory=list)

    def publish(self, url: str, document: Any, *, version: int, ttl_ms: int | None = None) -> bool:
        self.published.append((url, version, ttl_ms))
        return True


@dataclass
class FakeRegistry:
    invalidated: list[tuple[list[str], str | None]] = field(default_factory=list)
    settled: list[str] = field(default_factory=list)

    def invalidate(
        self, dids: Any = (), *, institution_id: str | None = None, settle: bool = False
    ) -> int:
        self.invalidated.append((list(dids), institution_id))
        if settle:
            self.settled.extend(dids)
        return 0


@dataclass
class FakeDidWeb:
    forgotten: list[str] = field(default_factory=list)

    def forget(self, did: str) -> None:
        self.forgotten.append(did)


@dataclass
class FakeSharePages:
    invalidations: int = 0

    def invalidate(self) -> None:
        self.invalidations += 1


@dataclass
class FakeGraph:
    status_lists: FakeStatusLists = field(default_factory=FakeStatusLists)
    registry: FakeRegistry = field(default_factory=FakeRegistry)
    share_pages: FakeSharePages = field(default_factory=FakeSharePages)
    did_web: FakeDidWeb = field(default_factory=FakeDidWeb)

    def forget_answers(self) -> None:
        self.share_pages.invalidate()


@dataclass
class Harness:
    broker: KafkaBroker
    graph: FakeGraph
    kafka: KafkaSettings

    async def publish(self, event: Event) -> None:
        await self.broker.publish(event.to_bytes(), topic=self.kafka.topic(event.TOPIC))


@pytest.fixture
async def harness() -> AsyncIterator[Harness]:
    settings = VerifierSettings(  # type: ignore[call-arg]
        _env_file=None, kafka=KafkaSettings(topic_prefix="mem.")
    )
    broker = KafkaBroker()
    broker.include_router(create_router(settings))
    graph = FakeGraph()
    broker.context.set_global("graph", graph)
    broker.context.set_global(
        "publisher", EventPublisher(broker, settings.kafka, producer="sceau-verifier")
    )
    async with TestKafkaBroker(broker) as running:
        yield Harness(running, graph, settings.kafka)


def published_list(version: int) -> StatusListPublishedV1:
    return StatusListPublishedV1(
        producer="sceau-issuer",
        list_id="l1",
        institution_id="i1",
        issuer_did="did:key:z1",
        purpose=StatusPurpose.REVOCATION,
        list_url=URL,
        version=version,
        format="BitstringStatusList",
        ttl_ms=60_000,
        credential={"id": URL, "credentialSubject": {}},
    )


async def test_a_published_status_list_replaces_the_cached_one(harness: Harness) -> None:
    await harness.publish(published_list(3))
    assert harness.graph.status_lists.published == [(URL, 3, 60_000)]
    assert harness.graph.registry.invalidated == []
    assert harness.graph.share_pages.invalidations == 1


async def test_an_accreditation_change_drops_the_institutions_trust_answers(
    harness: Harness,
) -> None:
    await harness.publish(
        AccreditationChangedV1(
            producer="sceau-registry",
            institution_id="i1",
            dids=["did:web:college.example"],
            status=InstitutionStatus.SUSPENDED,
            effective_at=datetime.now(UTC),
        )
    )
    assert harness.graph.registry.invalidated == [(["did:web:college.example"], "i1")]
    assert harness.graph.status_lists.published == []
    assert harness.graph.share_pages.invalidations == 1


async def test_a_key_event_drops_the_dids_answers_and_document(harness: Harness) -> None:
    did = "did:web:college.example"
    await harness.publish(
        IssuerKeyPublishedV1(
            producer="sceau-issuer",
            institution_id="i1",
            did=did,
            verification_method=f"{did}#key-1",
            public_key_multibase="z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH",
            action=KeyAction.REVOKED,
            active_from=datetime(2026, 1, 1, tzinfo=UTC),
            revoked_as_of=datetime(2026, 6, 1, tzinfo=UTC),
        )
    )
    assert harness.graph.registry.invalidated == [([did], None)]
    assert harness.graph.registry.settled == [did]  # the registry may apply it a bit later
    assert harness.graph.did_web.forgotten == [did]
    assert harness.graph.share_pages.invalidations == 1


async def test_an_unreadable_message_reaches_no_cache(harness: Harness) -> None:
    topic = harness.kafka.topic(StatusListPublishedV1.TOPIC)
    await harness.broker.publish(b'{"not": "an event"}', topic=topic)
    assert harness.graph.status_lists.published == []
    await harness.publish(published_list(4))  # the consumer goes on with the next one
    assert harness.graph.status_lists.published == [(URL, 4, 60_000)]


def test_each_router_has_its_own_consumer_groups() -> None:
    settings = VerifierSettings(_env_file=None)  # type: ignore[call-arg]
    groups = [
        {sub.group_id for sub in create_router(settings).subscribers}  # type: ignore[attr-defined]
        for _ in range(2)
    ]
    assert groups[0].isdisjoint(groups[1])
    for found in groups:
        assert {g.rsplit(".", 1)[0] for g in found} == {
            "verifier.status-cache",
            "verifier.trust-cache",
            "verifier.key-cache",
        }

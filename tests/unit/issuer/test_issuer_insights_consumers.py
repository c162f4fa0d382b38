"""The insights consumers, in memory: issued, status and verification events reach the service.

FastStream's ``TestKafkaBroker`` routes each published event to the issuer's consumer router;
the graph is a fake whose ``insights`` records what it was handed (the counting itself, and its
idempotency, are tested on the real database in tests/integration/issuer/test_issuer_insights.py).
"""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from faststream.kafka import KafkaBroker, TestKafkaBroker
from pydantic import SecretStr

from sceau_issuer.consumers import create_router
from sceau_issuer.settings import IssuerSettings
from sceau_shared.events import (
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    Event,
    StatusChange,
    VerificationCompletedV1,
    VerificationOutcome,
)
from sceau_shared.kafka import GRAPH_CONTEXT, PUBLISHER_CONTEXT, EventPublisher
from sceau_shared.settings import KafkaSettings


@dataclass
class FakeInsights:
    """Records every event handed to the insights service."""

    seen: list[Event] = field(default_factory=list)

    async def credential_issued(self, event: CredentialIssuedV1) -> None:
        self.seen.append(event)

    async def status_changed(self, event: CredentialStatusChangedV1) -> None:
        self.seen.append(event)

    async def verification(self, event: VerificationCompletedV1) -> None:
        self.seen.append(event)


@dataclass
class FakeGraph:
    insights: FakeInsights = field(default_factory=FakeInsights)


@pytest.fixture
def settings() -> IssuerSettings:
    return IssuerSettings(
        master_key=SecretStr(base64.b64encode(os.urandom(32)).decode()),
        kafka=KafkaSettings(topic_prefix="unit."),
    )


@pytest.fixture
async def running(settings: IssuerSettings) -> AsyncIterator[tuple[KafkaBroker, FakeGraph]]:
    broker = KafkaBroker()
    broker.include_router(create_router(settings))
    graph = FakeGraph()
    broker.context.set_global(GRAPH_CONTEXT, graph)
    broker.context.set_global(
        PUBLISHER_CONTEXT, EventPublisher(broker, settings.kafka, producer="test")
    )
    async with TestKafkaBroker(broker) as test_broker:
        yield test_broker, graph


async def _publish(broker: KafkaBroker, settings: IssuerSettings, event: Any) -> None:
    await broker.publish(event.to_bytes(), topic=settings.kafka.topic(event.TOPIC))


async def test_issued_status_and_verification_events_reach_the_insights(
    running: tuple[KafkaBroker, FakeGraph], settings: IssuerSettings
) -> None:
    broker, graph = running
    now = datetime.now(UTC)
    issued = CredentialIssuedV1(
        producer="issuer",
        credential_id="urn:uuid:0b7c2d1e-1111-4222-8333-944455556666",
        institution_id="college-a",
        issuer_did="did:key:z6Mk",
        achievement_id="a1",
        achievement_version=1,
        achievement_type="MicroCredential",
        profile="ob3-v2",
        issued_at=now,
    )
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
        await _publish(broker, settings, event)
    # Handed on every time: the service counts a redelivered event once (its marker).
    assert [e.event_id for e in graph.insights.seen] == [
        issued.event_id,
        revoked.event_id,
        verified.event_id,
        verified.event_id,
    ]

"""The whole verifier (create_api) on real Kafka, with a loopback registry over HTTP.

The verifier stores nothing, so it is given no MongoDB at all. Covers what only real
infrastructure shows: it starts and is ready with Kafka alone; VerificationCompletedV1 reaches
the broker; a StatusListPublishedV1 makes a revocation visible immediately although the cached
list is still fresh by its ttl; an AccreditationChangedV1 drops cached trust; every replica
(each with its own consumer group) drops its own caches.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from verifier_support import Issuer, RegistryStandIn, StatusList, serve

from sceau_dev.testing.polling import eventually
from sceau_shared.events import (
    AccreditationChangedV1,
    Event,
    InstitutionStatus,
    VerificationCompletedV1,
)
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import KafkaSettings
from sceau_verifier.app import create_api
from sceau_verifier.settings import StatusSettings, TrustSettings, VerifierSettings

pytestmark = pytest.mark.integration


def verifier_settings(base: str, kafka: KafkaSettings, **overrides: Any) -> VerifierSettings:
    url = httpx.URL(base)
    values: dict[str, Any] = {
        "kafka": kafka,
        "status": StatusSettings(
            allowed_hosts=[f"{url.host}:{url.port}"],
            allow_private_hosts=True,
            default_ttl_s=3600,
        ),
        "trust": TrustSettings(registry_url=base, cache_ttl_s=3600),
        # Test topics are new and private: start at their beginning so no event is missed
        # while the consumer joins (production starts at "latest": a new process has no cache).
        "invalidation_offset_reset": "earliest",
    }
    values.update(overrides)
    return VerifierSettings(_env_file=None, **values)  # type: ignore[call-arg]


@asynccontextmanager
async def running(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with (
        LifespanManager(app, startup_timeout=60) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
        ) as client,
    ):
        yield client


@dataclass
class Env:
    registry: RegistryStandIn
    base: str
    issuer: Issuer
    revocation: StatusList
    settings: VerifierSettings
    publish: Callable[[Event], Awaitable[None]]


@pytest.fixture
async def env(kafka_settings: KafkaSettings) -> AsyncIterator[Env]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        revocation.ttl_ms = 3_600_000  # an hour: only the event can make a change visible
        await issuer.sign_list(revocation)
        registry.register(issuer)
        broker = create_broker(kafka_settings, client_id="test-issuer")
        await broker.connect()
        publisher = EventPublisher(broker, kafka_settings, producer="sceau-issuer")
        try:
            yield Env(
                registry,
                base,
                issuer,
                revocation,
                verifier_settings(base, kafka_settings),
                publisher.publish,
            )
        finally:
            await broker.stop()


def _status(result: dict[str, Any]) -> str:
    return next(c for c in result["checks"] if c["name"] == "status")["status"]


class TestVerifierService:
    async def test_ready_with_kafka_alone_and_no_database(
        self, env: Env, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # A MongoDB URI left in the environment (an old deployment) is not even read: the
        # verifier has no database setting, opens no client, and /readyz checks Kafka only.
        monkeypatch.setenv(
            "VERIFIER_MONGO__URI", "mongodb://127.0.0.1:1/?serverSelectionTimeoutMS=100"
        )
        settings = verifier_settings(env.base, env.settings.kafka)
        assert not hasattr(settings, "mongo")
        app = create_api(settings)
        async with running(app) as client:
            ready = await client.get("/readyz")
            assert ready.status_code == 200, ready.text
            body = ready.json()
            assert (body["status"], body["checks"]) == ("ready", {"kafka": "ok"})
            # Verifying needs no broker: Kafka is reported, never required (issue 18, item 13).
            assert set(body["components"]) == {"kafka"}
            assert body["components"]["kafka"]["required"] is False
            assert app.state.runtime.mongo is None
            credential, _ = await env.issuer.issue(lists=[env.revocation])
            answer = await client.post("/v1/verify", json=credential)
            assert answer.json()["verified"] is True

    async def test_verification_completed_event_reaches_kafka(
        self, env: Env, kafka_settings: KafkaSettings
    ) -> None:
        credential, _ = await env.issuer.issue(lists=[env.revocation])
        assert isinstance(credential, dict)
        async with running(create_api(env.settings)) as client:
            response = await client.post("/v1/verify", json=credential)
            assert response.json()["verified"] is True
            ready = await client.get("/readyz")
            assert ready.status_code == 200
        consumer = AIOKafkaConsumer(
            kafka_settings.topic(VerificationCompletedV1.TOPIC),
            bootstrap_servers=kafka_settings.bootstrap_servers,
            auto_offset_reset="earliest",
            enable_auto_commit=False,
        )
        await consumer.start()
        try:
            record = await asyncio.wait_for(consumer.getone(), timeout=30)
        finally:
            await consumer.stop()
        event = VerificationCompletedV1.model_validate_json(record.value)
        assert event.credential_id_hash == hashlib.sha256(credential["id"].encode()).hexdigest()
        assert event.issuer_did == env.issuer.did
        assert event.issuer_proven is True  # its proof verified against the issuer's key
        assert event.outcome == "verified"
        assert b"learner" not in record.value
        assert b"Alex" not in record.value

    async def test_revocation_visible_on_every_replica_after_the_event(self, env: Env) -> None:
        credential, index = await env.issuer.issue(lists=[env.revocation])
        async with (
            running(create_api(env.settings)) as first,
            running(create_api(env.settings)) as second,
        ):
            for client in (first, second):
                result = (await client.post("/v1/verify", json=credential)).json()
                assert result["verified"] is True
            requests_before = env.registry.list_requests
            await env.issuer.set_status(env.revocation, index, True)
            # The lists are cached for an hour: without the event, both replicas would say valid.
            for client in (first, second):
                result = (await client.post("/v1/verify", json=credential)).json()
                assert _status(result) == "passed"
            await env.publish(env.issuer.published(env.revocation))

            async def revoked_everywhere() -> bool:
                answers = [
                    (await c.post("/v1/verify", json=credential)).json() for c in (first, second)
                ]
                return all(_status(a) == "failed" for a in answers)

            await eventually(
                revoked_everywhere, timeout_s=30, message="revocation seen by every worker"
            )
            # The event carried the list: no replica had to fetch it again.
            assert env.registry.list_requests == requests_before

    async def test_accreditation_change_drops_cached_trust(self, env: Env) -> None:
        now = datetime.now(UTC)
        credential, _ = await env.issuer.issue(
            lists=[env.revocation], issued_at=now - timedelta(days=2)
        )
        async with running(create_api(env.settings)) as client:
            assert (await client.post("/v1/verify", json=credential)).json()["verified"] is True
            # The registry corrects the record: suspended since before this credential was issued.
            standing = env.registry.standings[env.issuer.did]
            standing.timeline.append((now - timedelta(days=3), "suspended"))
            cached = (await client.post("/v1/verify", json=credential)).json()
            assert cached["verified"] is True  # still the cached answer
            await env.publish(
                AccreditationChangedV1(
                    producer="sceau-registry",
                    institution_id=standing.institution_id,
                    dids=[env.issuer.did],
                    status=InstitutionStatus.SUSPENDED,
                    effective_at=now - timedelta(days=3),
                )
            )

            async def refused() -> bool:
                answer = (await client.post("/v1/verify", json=credential)).json()
                return answer["verified"] is False

            await eventually(
                refused, timeout_s=30, message="the suspension reaches the cached answer"
            )

    async def test_status_list_unreachable_is_inconclusive(self, env: Env) -> None:
        credential, _ = await env.issuer.issue(lists=[env.revocation])
        env.registry.down = True
        async with running(create_api(env.settings)) as client:
            result = (await client.post("/v1/verify", json=credential)).json()
        assert result["outcome"] == "inconclusive"
        assert _status(result) == "inconclusive"

"""Helpers for issuer integration tests (unique module name: tests share one import path)."""

from __future__ import annotations

import asyncio
import copy
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from achievement_samples import micro_credential
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from pymongo.asynchronous.database import AsyncDatabase

from sceau_credentials.ob3.models import ACHIEVEMENT_TYPES
from sceau_issuer.apikeys.service import Scope
from sceau_issuer.graph import IssuerGraph
from sceau_issuer.settings import IssuerSettings
from sceau_shared.events import (
    AccreditationChangedV1,
    AccreditationScope,
    DidMethod,
    Event,
    InstitutionRegisteredV1,
    InstitutionStatus,
)
from sceau_shared.runtime import Runtime
from sceau_shared.settings import KafkaSettings

MICRO: dict[str, Any] = micro_credential(modules=3, credit_status="non-credit", validity_months=24)


ALL_TYPES = sorted(ACHIEVEMENT_TYPES)


def scope(
    types: list[str],
    *,
    levels: list[str] | None = None,
    since: timedelta = timedelta(days=1),
    until: timedelta | None = None,
    role: str = "issuer",
) -> AccreditationScope:
    """An accreditation scope valid from ``since`` ago (until ``until`` from now, if given)."""
    now = datetime.now(UTC)
    return AccreditationScope(
        achievement_types=types,
        levels=levels or [],
        role=role,
        valid_from=now - since,
        valid_until=now + until if until is not None else None,
    )


def micro(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MICRO)
    data.update(changes)
    return data


class IssuerHarness:
    """The running app, an HTTP client to it, and shortcuts to set up tenants."""

    def __init__(self, app: FastAPI, http: httpx.AsyncClient, settings: IssuerSettings) -> None:
        self.app = app
        self.http = http
        self.settings = settings

    @property
    def svc(self) -> IssuerGraph:
        """The running issuer's object graph."""
        graph: IssuerGraph = self.app.state.graph
        return graph

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        """The issuer's database (to look at what it stored)."""
        runtime: Runtime = self.app.state.runtime
        return runtime.db

    async def tenant(
        self,
        institution_id: str | None = None,
        *,
        method: DidMethod = DidMethod.KEY,
        domain: str | None = None,
        languages: tuple[str, ...] = ("fr", "en"),
        accredited_for: list[str] | None = ALL_TYPES,
    ) -> str:
        """Register a tenant and (unless ``accredited_for`` is None) accredit it like the registry.

        By default every OB achievement type is accredited from yesterday on, so tests about
        something else are not refused for accreditation.
        """
        institution_id = institution_id or f"inst-{uuid.uuid4().hex[:8]}"
        await self.svc.tenants.register(
            InstitutionRegisteredV1(
                producer="test",
                institution_id=institution_id,
                legal_name={"fr": "Collège Test", "en": "Test College"},
                category="college",
                jurisdiction="CA-ON",
                domain=domain,
                did_method=method,
                languages=list(languages),
                contact_email="registrar@college.example",
            )
        )
        if accredited_for is not None:
            await self.accredit(institution_id, scope(accredited_for))
        return institution_id

    async def accredit(
        self,
        institution_id: str,
        *scopes: AccreditationScope,
        status: InstitutionStatus = InstitutionStatus.ACTIVE,
    ) -> AccreditationChangedV1:
        """Apply an accreditation as the registry's ``AccreditationChangedV1`` would."""
        event = AccreditationChangedV1(
            producer="registry",
            institution_id=institution_id,
            status=status,
            scopes=list(scopes),
            effective_at=datetime.now(UTC),
        )
        await self.svc.tenants.apply_accreditation(event)
        return event

    async def api_key(self, institution_id: str, *scopes: Scope) -> dict[str, str]:
        created = await self.svc.api_keys.create(
            institution_id, "test", list(scopes) or list(Scope)
        )
        return {"Authorization": f"Bearer {created.token}"}

    async def turn_on_suspension(self, headers: dict[str, str]) -> dict[str, Any]:
        """Opt the institution in to suspension (off by default), as an institution would.

        The ``ob3-v2`` credentials issued afterwards carry a suspension entry and can be
        suspended; those issued before stay revocation-only.
        """
        answer = await self.http.put(
            "/v1/institution/settings", json={"suspension": True}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["suspension"] is True
        return body

    async def published(self, headers: dict[str, str], definition: dict[str, Any]) -> str:
        created = await self.http.post("/v1/achievements", json=definition, headers=headers)
        assert created.status_code == 201, created.text
        achievement_id = str(created.json()["achievement_id"])
        published = await self.http.post(
            f"/v1/achievements/{achievement_id}/publish", headers=headers
        )
        assert published.status_code == 200, published.text
        return achievement_id

    async def series(
        self, headers: dict[str, str], structure: str = "progressive"
    ) -> tuple[list[str], str, str]:
        """Three published modules, an overall achievement and their series: the ids of each."""
        modules = [
            await self.published(headers, micro(name={"fr": f"Module {n}", "en": f"Module {n}"}))
            for n in (1, 2, 3)
        ]
        overall = await self.published(
            headers, micro(name={"fr": "Parcours complet", "en": "Full pathway"}, hours=45)
        )
        created = await self.http.post(
            "/v1/series",
            json={
                "name": {"fr": "Parcours IA", "en": "AI pathway"},
                "structure": structure,
                "components": [{"achievement_id": m} for m in modules],
                "overall_achievement_id": overall,
            },
            headers=headers,
        )
        assert created.status_code == 201, created.text
        return modules, overall, str(created.json()["series_id"])

    async def issue(
        self,
        headers: dict[str, str],
        achievement_id: str,
        email: str,
        *,
        key: str | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = {"achievement_id": achievement_id, "recipient": {"email": email}, **extra}
        return await self.http.post(
            "/v1/credentials",
            json=body,
            headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
        )


async def consume(
    kafka: KafkaSettings, event_type: type[Event], count: int, *, within: float = 30.0
) -> list[Any]:
    """Read ``count`` events of a type from the test's private topic."""
    consumer = AIOKafkaConsumer(
        kafka.topic(event_type.TOPIC),
        bootstrap_servers=kafka.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    out: list[Any] = []
    seen: set[Any] = set()
    try:
        # At-least-once delivery: the same event (same event_id) may arrive twice; consumers
        # dedupe on event_id, and so does this helper.
        while len(out) < count:
            record = await asyncio.wait_for(consumer.getone(), timeout=within)
            event = event_type.model_validate_json(record.value)
            if event.event_id not in seen:
                seen.add(event.event_id)
                out.append(event)
    finally:
        await consumer.stop()
    return out

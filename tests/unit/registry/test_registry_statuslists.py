"""Status lists: strong ETags, 304, Cache-Control from ttl, newest version wins, no re-signing."""

from __future__ import annotations

import json
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi import FastAPI
from pydantic import SecretStr
from registry_app import client, registry_app

from sceau_registry.settings import RegistrySettings
from sceau_registry.status_lists.repository import StoredDocument
from sceau_registry.status_lists.service import (
    StatusListService,
    etag_matches,
    max_age_of,
    strong_etag,
)
from sceau_shared.events import StatusListPublishedV1, StatusPurpose


class MemoryStatusStore:
    """In-memory stand-in with the same conditional-update rule as MongoDB's."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.reads = 0

    async def store_if_newer(self, list_id: str, version: int, fields: dict[str, Any]) -> bool:
        current = self.docs.get(list_id)
        if current is not None and current["version"] >= version:
            return False
        self.docs[list_id] = {**fields, "version": version}
        return True

    async def get(self, list_id: str) -> StoredDocument | None:
        self.reads += 1
        doc = self.docs.get(list_id)
        if doc is None:
            return None
        return StoredDocument(list_id, doc["version"], doc["body"], doc["etag"], doc["max_age_s"])


def published(
    version: int, *, ttl_ms: int | None = 60_000, list_id: str = "L1"
) -> StatusListPublishedV1:
    return StatusListPublishedV1(
        producer="issuer",
        list_id=list_id,
        institution_id="cegep-a",
        issuer_did="did:key:z6Mk",
        purpose=StatusPurpose.REVOCATION,
        list_url=f"http://127.0.0.1:8002/v1/status-lists/{list_id}",
        version=version,
        format="BitstringStatusList",
        ttl_ms=ttl_ms,
        credential={
            "id": f"http://127.0.0.1:8002/v1/status-lists/{list_id}",
            "credentialSubject": {"encodedList": f"u-version-{version}"},
            "proof": {"proofValue": f"z-signed-{version}"},
        },
    )


def service(store: MemoryStatusStore, cache_ttl_s: float = 60.0) -> StatusListService:
    return StatusListService(
        store,  # type: ignore[arg-type]
        default_max_age_s=300,
        cache_ttl_s=cache_ttl_s,
        cache_max_entries=100,
    )


class TestHelpers:
    def test_strong_etag_is_a_quoted_hash_of_the_bytes(self) -> None:
        tag = strong_etag(b"abc")
        assert tag.startswith('"')
        assert tag.endswith('"')
        assert tag == strong_etag(b"abc") != strong_etag(b"abd")

    def test_if_none_match(self) -> None:
        assert etag_matches('"a"', '"a"')
        assert etag_matches('"x", W/"a"', '"a"')
        assert etag_matches("*", '"a"')
        assert not etag_matches('"b"', '"a"')
        assert not etag_matches(None, '"a"')

    def test_max_age(self) -> None:
        assert max_age_of(60_000, {}, 300) == 60
        assert max_age_of(None, {"credentialSubject": {"ttl": 120_000}}, 300) == 120
        assert max_age_of(None, {"credentialSubject": {"ttl": True}}, 300) == 300
        assert max_age_of(None, {}, 300) == 300


class TestNewestWins:
    @pytest.mark.parametrize("order", [(3, 1, 2), (1, 3, 2), (2, 3, 1), (3, 3, 1)])
    async def test_out_of_order_versions(self, order: tuple[int, ...]) -> None:
        store = MemoryStatusStore()
        svc = service(store)
        for version in order:
            await svc.publish(published(version))
        served = await svc.get("L1")
        assert served is not None
        assert served.version == 3
        assert json.loads(served.body)["proof"]["proofValue"] == "z-signed-3"

    async def test_late_event_does_not_leave_a_stale_cache(self) -> None:
        store = MemoryStatusStore()
        svc = service(store)
        assert await svc.publish(published(2)) is True
        assert await svc.publish(published(1)) is False
        served = await svc.get("L1")
        assert served is not None
        assert served.version == 2

    async def test_bytes_served_are_the_signed_bytes(self) -> None:
        store = MemoryStatusStore()
        svc = service(store)
        event = published(1)
        await svc.publish(event)
        served = await svc.get("L1")
        assert served is not None
        assert json.loads(served.body) == event.credential
        assert served.etag == strong_etag(served.body)

    async def test_unusable_list_id_is_ignored(self) -> None:
        svc = service(MemoryStatusStore())
        assert await svc.publish(published(1, list_id="a/b")) is False


@pytest.fixture
def settings() -> RegistrySettings:
    return RegistrySettings(
        operator_token=SecretStr("t" * 32), master_key=SecretStr("A" * 43 + "=")
    )


def app_with(settings: RegistrySettings, **services: Any) -> FastAPI:
    return registry_app(settings, SimpleNamespace(**services))


async def test_http_etag_304_and_cache_control(settings: RegistrySettings) -> None:
    store = MemoryStatusStore()
    svc = service(store)
    await svc.publish(published(1, ttl_ms=90_000))
    app = app_with(settings, status_lists=svc)
    async with client(app) as c:
        first = await c.get("/v1/status-lists/L1")
        assert first.status_code == 200
        assert first.headers["cache-control"] == "public, max-age=90"
        etag = first.headers["etag"]
        assert etag == strong_etag(first.content)
        again = await c.get("/v1/status-lists/L1", headers={"If-None-Match": etag})
        assert again.status_code == 304
        assert again.content == b""
        assert again.headers["etag"] == etag
        await svc.publish(published(2, ttl_ms=90_000))
        changed = await c.get("/v1/status-lists/L1", headers={"If-None-Match": etag})
        assert changed.status_code == 200
        assert changed.headers["etag"] != etag
        missing = await c.get("/v1/status-lists/nope")
        assert missing.status_code == 404
        assert missing.headers["content-type"] == "application/problem+json"
        bad = await c.get("/v1/status-lists/a%20b")
        assert bad.status_code == 422
        assert bad.headers["content-type"] == "application/problem+json"


async def test_serving_reads_the_store_once_per_cache_period(settings: RegistrySettings) -> None:
    store = MemoryStatusStore()
    svc = service(store, cache_ttl_s=60)
    await svc.publish(published(1))
    app = app_with(settings, status_lists=svc)
    async with client(app) as c:
        for _ in range(20):
            assert (await c.get("/v1/status-lists/L1")).status_code == 200
    assert store.reads == 0  # served from the copy stored by the event handler

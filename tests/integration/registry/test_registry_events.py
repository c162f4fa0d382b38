"""Consuming the issuer's events from real Kafka into FerretDB: keys, status lists, replays."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from registry_support import OPERATOR, consume, nothing_on

from sceau_credentials.keys import SigningKey
from sceau_dev.testing.polling import eventually
from sceau_shared.events import (
    AccreditationChangedV1,
    IssuerKeyPublishedV1,
    KeyAction,
    StatusListPublishedV1,
    StatusPurpose,
)
from sceau_shared.settings import KafkaSettings, MongoSettings

pytestmark = pytest.mark.integration

DID = "did:web:127.0.0.1%3A8002:institutions:cegep-a"
DID_PATH = DID.replace("%", "%25")
NOW = datetime.now(UTC).replace(microsecond=0)

Publish = Callable[..., Awaitable[None]]


def key_event(
    fragment: str, seed: int, action: KeyAction, *, rotated: bool = False, revoked: bool = False
) -> IssuerKeyPublishedV1:
    key = SigningKey.from_seed(bytes([seed]) * 32, DID, fragment)
    return IssuerKeyPublishedV1(
        producer="sceau-issuer",
        institution_id="cegep-a",
        did=DID,
        verification_method=key.verification_method,
        public_key_multibase=key.public_key_multibase,
        action=action,
        active_from=NOW - timedelta(days=100 - seed),
        rotated_at=NOW - timedelta(days=10) if rotated else None,
        revoked_as_of=NOW - timedelta(days=5) if revoked else None,
    )


def list_event(version: int, list_id: str = "cegep-a-rev-1") -> StatusListPublishedV1:
    url = f"http://127.0.0.1:8002/v1/status-lists/{list_id}"
    return StatusListPublishedV1(
        producer="sceau-issuer",
        list_id=list_id,
        institution_id="cegep-a",
        issuer_did=DID,
        purpose=StatusPurpose.REVOCATION,
        list_url=url,
        version=version,
        format="BitstringStatusList",
        ttl_ms=120_000,
        credential={
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": url,
            "type": ["VerifiableCredential", "BitstringStatusListCredential"],
            "issuer": DID,
            "credentialSubject": {"id": f"{url}#list", "encodedList": f"uH4sI-v{version}"},
            "proof": [{"type": "DataIntegrityProof", "proofValue": f"z{version}"}],
        },
    )


async def register_hosted(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/v1/admin/institutions",
        json={
            "institution_id": "cegep-a",
            "legal_name": {"fr": "Cégep A", "en": "College A"},
            "category": "public-college",
            "jurisdiction": "CA-QC",
            "did_method": "hosted-web",
        },
        headers=OPERATOR,
    )
    assert response.status_code == 201


KEY_EVENTS = [
    key_event("key-1", 1, KeyAction.ADDED),
    key_event("key-2", 2, KeyAction.ADDED),
    key_event("key-1", 1, KeyAction.ROTATED, rotated=True),
    key_event("key-3", 3, KeyAction.ADDED),
    key_event("key-3", 3, KeyAction.REVOKED, revoked=True),
]


async def test_key_events_become_the_hosted_did_document(
    http: httpx.AsyncClient, publish: Publish
) -> None:
    await register_hosted(http)
    await publish(*KEY_EVENTS)

    async def all_consumed() -> bool:
        answer = await http.get(
            f"/v1/issuers/{DID_PATH}", params={"verification_method": f"{DID}#key-3"}
        )
        key = answer.json()["key"]
        return bool(key and key["revoked_as_of"])

    # The revocation is the last event published.
    await eventually(all_consumed, timeout_s=30, message="key revocation consumed")
    response = await http.get("/institutions/cegep-a/did.json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/did+json"
    doc = response.json()
    assert doc["id"] == DID
    ids = {m["id"] for m in doc["verificationMethod"]}
    assert ids == {f"{DID}#key-1", f"{DID}#key-1-2020", f"{DID}#key-2", f"{DID}#key-2-2020"}
    assert f"{DID}#key-1" in doc["assertionMethod"]  # rotated: still verifies old credentials
    assert f"{DID}#key-1" not in doc["authentication"]

    async def key_answer(fragment: str, at: datetime) -> dict[str, Any]:
        response = await http.get(
            f"/v1/issuers/{DID_PATH}",
            params={"at": at.isoformat(), "verification_method": f"{DID}#{fragment}"},
        )
        return dict(response.json()["key"])

    old = await key_answer("key-1", NOW - timedelta(days=20))
    assert old["valid_at"] is True
    assert old["rotated_at"] is not None
    assert (await key_answer("key-1", NOW))["valid_at"] is False
    assert (await key_answer("key-1-2020", NOW - timedelta(days=20)))["valid_at"] is True
    assert (await key_answer("key-3", NOW))["revoked_as_of"] is not None
    # key-3 was revoked as of five days ago; a credential claiming to be older still fails.
    assert (await key_answer("key-3", NOW - timedelta(days=20)))["valid_at"] is False


async def test_did_key_events_link_the_did_to_the_institution(
    http: httpx.AsyncClient, publish: Publish, kafka_settings: KafkaSettings
) -> None:
    response = await http.post(
        "/v1/admin/institutions",
        json={"institution_id": "inst-k", "legal_name": {"en": "K College"},
              "category": "public-college", "jurisdiction": "CA-ON", "did_method": "key"},
        headers=OPERATOR,
    )  # fmt: skip
    assert response.status_code == 201
    key = SigningKey.from_seed(b"\x09" * 32)
    event = IssuerKeyPublishedV1(
        producer="sceau-issuer",
        institution_id="inst-k",
        did=key.controller,
        verification_method=key.verification_method,
        public_key_multibase=key.public_key_multibase,
        action=KeyAction.ADDED,
        active_from=NOW - timedelta(days=1),
    )
    await publish(event, event)

    async def linked() -> bool:
        answer = (await http.get(f"/v1/issuers/{key.controller}")).json()
        return bool(answer["registered"] and answer["institution_id"] == "inst-k")

    await eventually(linked, timeout_s=30, message="DID linked to inst-k")

    async def shown() -> bool:
        listed = (await http.get("/v1/institutions/inst-k")).json()
        return bool(listed["dids"] == [key.controller])

    await eventually(shown, timeout_s=30, message="DID shown on inst-k")
    (announced,) = await consume(kafka_settings, AccreditationChangedV1, 1)
    assert announced.dids == [key.controller]
    assert announced.reason == "did-linked"


async def test_status_lists_out_of_order_newest_wins(
    http: httpx.AsyncClient, publish: Publish
) -> None:
    await publish(list_event(3), list_event(1), list_event(2))

    async def served() -> httpx.Response | None:
        response = await http.get("/v1/status-lists/cegep-a-rev-1")
        return response if response.status_code == 200 else None

    first = await eventually(served, timeout_s=30, message="status list served")
    # Give the late versions time to arrive; they must not replace version 3.
    await publish(list_event(1))
    second = await eventually(served, timeout_s=30, message="status list served")
    for response in (first, second):
        assert response.json()["credentialSubject"]["encodedList"] == "uH4sI-v3"
    assert second.headers["etag"] == first.headers["etag"]
    assert second.headers["cache-control"] == "public, max-age=120"
    cached = await http.get(
        "/v1/status-lists/cegep-a-rev-1", headers={"If-None-Match": first.headers["etag"]}
    )
    assert cached.status_code == 304
    await publish(list_event(4))

    async def newer() -> bool:
        response = await http.get("/v1/status-lists/cegep-a-rev-1")
        return bool(response.json()["credentialSubject"]["encodedList"] == "uH4sI-v4")

    await eventually(newer, timeout_s=30, message="version 4 served")


async def test_replaying_every_event_from_the_start_is_harmless(
    http: httpx.AsyncClient,
    publish: Publish,
    registry_app: FastAPI,
    mongo_client: Any,
    mongo_settings: MongoSettings,
    kafka_settings: KafkaSettings,
) -> None:
    await register_hosted(http)
    lists = [list_event(1), list_event(2)]
    await publish(*KEY_EVENTS, *lists)
    db = mongo_client[mongo_settings.database]

    async def settled() -> bool:
        doc = await db["status_lists"].find_one({"_id": "cegep-a-rev-1"})
        processed = await db["processed_events"].count_documents({})
        return bool(doc and doc["version"] == 2 and processed == len(KEY_EVENTS))

    await eventually(settled, timeout_s=30, message="events settled")

    async def state() -> tuple[Any, ...]:
        keys = [d async for d in db["keys"].find({}).sort("_id", 1)]
        lists_ = [
            d async for d in db["status_lists"].find({"_id": "cegep-a-rev-1"}, {"stored_at": 0})
        ]
        inst = await db["institutions"].find_one({"_id": "cegep-a"}, {"outbox": 0})
        document = (await http.get("/institutions/cegep-a/did.json")).content
        return keys, lists_, inst, document

    before = await state()
    # Replay: the same events again, in a different order, through Kafka and directly.
    await publish(*reversed(KEY_EVENTS), *reversed(lists))
    graph = registry_app.state.graph
    for event in KEY_EVENTS:
        await graph.key_ingest.handle(event)
    for list_ in lists:
        await graph.status_lists.publish(list_)
    marker = list_event(3, list_id="marker")
    await publish(marker)  # once this one is served, the replayed ones were consumed before it

    async def marker_served() -> bool:
        return (await http.get("/v1/status-lists/marker")).status_code == 200

    await eventually(marker_served, timeout_s=30, message="marker list served")
    assert await state() == before
    # The replay announced nothing (a hosted DID is linked at registration already).
    assert await nothing_on(kafka_settings, AccreditationChangedV1)

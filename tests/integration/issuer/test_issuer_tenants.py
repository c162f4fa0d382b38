"""Tenants from the registry's announcement; keys encrypted at rest; rotation; API keys."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from issuer_support import IssuerHarness, consume, micro

from sceau_dev.testing.polling import eventually
from sceau_issuer.apikeys.service import Scope
from sceau_issuer.tenants.repository import TenantRepository
from sceau_issuer.tenants.service import TenantService
from sceau_shared.events import DidMethod, InstitutionRegisteredV1, IssuerKeyPublishedV1, KeyAction
from sceau_shared.kafka import EventPublisher, create_broker

pytestmark = pytest.mark.integration


async def test_registered_event_creates_tenant_and_publishes_key(harness: IssuerHarness) -> None:
    kafka = harness.settings.kafka
    event = InstitutionRegisteredV1(
        producer="registry",
        institution_id="college-a",
        legal_name={"fr": "Collège A", "en": "College A"},
        category="college",
        jurisdiction="CA-ON",
    )
    broker = create_broker(kafka, client_id="test-registry")
    async with broker:
        await broker.connect()
        publisher = EventPublisher(broker, kafka, producer="registry")
        await publisher.publish(event)
        await publisher.publish(event)  # redelivery: no second key

    doc = await eventually(
        lambda: harness.db["institutions"].find_one({"_id": "college-a"}),
        timeout_s=60,
        message="institution college-a registered",
    )
    [key] = doc["keys"]
    assert key["did"].startswith("did:key:z6Mk")
    assert set(key["secret"]) == {"alg", "nonce", "ciphertext"}
    [published] = await consume(kafka, IssuerKeyPublishedV1, 1)
    assert published.action == KeyAction.ADDED
    assert published.did == key["did"]
    seed = harness.svc.tenants.signing_key(await harness.svc.tenants.get("college-a")).seed
    raw = published.model_dump_json()
    assert seed.hex() not in raw
    assert "secret" not in raw
    assert "ciphertext" not in raw


async def test_did_methods(harness: IssuerHarness) -> None:
    own = await harness.tenant(method=DidMethod.WEB, domain="college.example")
    hosted = await harness.tenant("inst-hosted", method=DidMethod.HOSTED_WEB)
    own_tenant = await harness.svc.tenants.get(own)
    assert own_tenant.did == "did:web:college.example"
    assert own_tenant.active_key.verification_method == "did:web:college.example#key-1"
    hosted_tenant = await harness.svc.tenants.get(hosted)
    assert hosted_tenant.did == "did:web:registry.test%3A8002:institutions:inst-hosted"


async def test_rotation_keeps_old_key_and_revocation_rotates(harness: IssuerHarness) -> None:
    institution = await harness.tenant(method=DidMethod.WEB, domain="rot.example")
    headers = await harness.api_key(institution, Scope.MANAGE, Scope.READ)
    rotated = await harness.http.post("/v1/institution/keys/rotate", headers=headers)
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["verification_method"] == "did:web:rot.example#key-2"
    profile = (await harness.http.get("/v1/institution", headers=headers)).json()
    states = {k["key_id"]: k["state"] for k in profile["keys"]}
    # By default a rotation renews both keys: Ed25519 and P-256.
    assert states == {"k1": "rotated", "p1": "rotated", "k2": "active", "p2": "active"}
    assert profile["active_p256_key_id"] == "p2"
    assert "secret" not in json.dumps(profile)
    as_of = datetime(2026, 1, 1, tzinfo=UTC).isoformat()
    revoked = await harness.http.post(
        "/v1/institution/keys/k2/revoke", json={"as_of": as_of}, headers=headers
    )
    assert revoked.status_code == 200, revoked.text
    profile = (await harness.http.get("/v1/institution", headers=headers)).json()
    assert profile["active_key_id"] == "k3"
    again = await harness.http.post(
        "/v1/institution/keys/k2/revoke", json={"as_of": as_of}, headers=headers
    )
    assert again.status_code == 409
    events = await consume(harness.settings.kafka, IssuerKeyPublishedV1, 8)
    assert [(e.verification_method.partition("#")[2], e.action) for e in events] == [
        ("key-1", KeyAction.ADDED),
        ("p256-1", KeyAction.ADDED),
        ("key-1", KeyAction.ROTATED),
        ("key-2", KeyAction.ADDED),
        ("p256-1", KeyAction.ROTATED),
        ("p256-2", KeyAction.ADDED),
        ("key-2", KeyAction.REVOKED),
        ("key-3", KeyAction.ADDED),
    ]
    assert events[6].revoked_as_of == datetime(2026, 1, 1, tzinfo=UTC)


async def test_p256_key_rotation_and_revocation_by_type(harness: IssuerHarness) -> None:
    institution = await harness.tenant("inst-p256", method=DidMethod.HOSTED_WEB)
    headers = await harness.api_key(institution, Scope.MANAGE, Scope.READ)
    only = await harness.http.post(
        "/v1/institution/keys/rotate", params={"key_type": "P-256"}, headers=headers
    )
    assert only.status_code == 200, only.text
    assert (only.json()["key_id"], only.json()["key_type"]) == ("p2", "P-256")
    revoked = await harness.http.post(
        "/v1/institution/keys/p2/revoke", json={"as_of": "2026-01-01T00:00:00Z"}, headers=headers
    )
    assert revoked.status_code == 200, revoked.text
    profile = (await harness.http.get("/v1/institution", headers=headers)).json()
    assert (profile["active_key_id"], profile["active_p256_key_id"]) == ("k1", "p3")
    bad = await harness.http.post(
        "/v1/institution/keys/rotate", params={"key_type": "RSA"}, headers=headers
    )
    assert bad.status_code == 422
    missing = await harness.http.post(
        "/v1/institution/keys/p9/revoke", json={"as_of": "2026-01-01T00:00:00Z"}, headers=headers
    )
    assert missing.status_code == 404


async def test_p256_key_encrypted_at_rest_and_added_to_older_tenants(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant("inst-upgrade", method=DidMethod.HOSTED_WEB)
    collection = harness.db["institutions"]
    doc = await collection.find_one({"_id": institution})
    assert doc is not None
    [ed25519, p256] = doc["keys"]
    assert (ed25519["key_type"], p256["key_type"]) == ("Ed25519", "P-256")
    assert set(p256["secret"]) == {"alg", "nonce", "ciphertext"}
    tenant = await harness.svc.tenants.get(institution)
    scalar = harness.svc.tenants.secret(tenant, tenant.key("p1"))
    assert scalar not in p256["secret"]["ciphertext"]
    # A tenant stored before P-256 keys existed: one Ed25519 key, no active_p256_key_id field.
    await collection.update_one(
        {"_id": institution},
        {"$set": {"keys": [ed25519]}, "$unset": {"active_p256_key_id": ""}},
    )
    fresh = TenantService(
        TenantRepository(collection),
        harness.svc.tenants._vault,  # the same master key, as another process would have
        producer="sceau-issuer",
        registry_public_url=harness.settings.registry_public_url,
        accreditations=harness.svc.tenants.accreditations,
    )
    upgraded = await fresh.get(institution)
    assert upgraded.active_p256_key_id == "p1"
    assert upgraded.key("p1").verification_method == f"{upgraded.did}#p256-1"
    assert (await fresh.get(institution)).active_p256_key_id == "p1"
    stored = await collection.find_one({"_id": institution})
    assert stored is not None
    assert [k["key_id"] for k in stored["keys"]] == ["k1", "p1"]


async def test_api_keys_scopes_and_revocation(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    reader = await harness.api_key(institution, Scope.READ)
    assert (await harness.http.get("/v1/credentials")).status_code == 401
    bad = {"Authorization": f"Bearer sceau.{uuid.uuid4().hex[:16]}.nope"}
    assert (await harness.http.get("/v1/credentials", headers=bad)).status_code == 401
    assert (await harness.http.get("/v1/credentials", headers=reader)).status_code == 200
    denied = await harness.http.post("/v1/achievements", json={"name": {"fr": "x"}}, headers=reader)
    assert denied.status_code == 403
    assert denied.headers["content-type"].startswith("application/problem+json")
    key_id = reader["Authorization"].split(".")[1]
    stored = await harness.db["api_keys"].find_one({"_id": key_id})
    assert stored is not None
    assert reader["Authorization"].split(".")[2] not in json.dumps(stored, default=str)
    await harness.svc.api_keys.revoke(key_id)
    assert (await harness.http.get("/v1/credentials", headers=reader)).status_code == 401


async def test_a_key_seen_before_is_still_checked_in_full_on_every_post(
    harness: IssuerHarness,
) -> None:
    """The gate reads a known key's institution while checking the key: a hint, never a pass."""
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    token = headers["Authorization"].removeprefix("Bearer ")
    keys = harness.svc.api_keys
    assert keys.institution_hint(token) is None  # never seen valid here
    created = await harness.http.post("/v1/achievements", json=micro(), headers=headers)
    assert created.status_code == 201, created.text
    assert keys.institution_hint(token) == institution
    key_id = token.split(".")[1]
    wrong = {"Authorization": f"Bearer sceau.{key_id}.not-the-secret"}
    refused = await harness.http.post("/v1/achievements", json=micro(), headers=wrong)
    assert refused.status_code == 401, refused.text
    await keys.revoke(key_id)
    revoked = await harness.http.post("/v1/achievements", json=micro(), headers=headers)
    assert revoked.status_code == 401, revoked.text
    assert revoked.headers["content-type"].startswith("application/problem+json")
    assert await harness.db["achievements"].count_documents({}) == 1

"""Tenant logic with an in-memory repository: creation, idempotence, rotation, revocation."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_issuer.errors import InstitutionNotFound, KeyConflict, KeyNotFound
from sceau_issuer.tenants.accreditation import Accreditation
from sceau_issuer.tenants.models import (
    InstitutionSettings,
    JwtAlgorithm,
    KeyRecord,
    KeyType,
    Tenant,
)
from sceau_issuer.tenants.service import TenantService
from sceau_issuer.vault import Vault
from sceau_shared.events import (
    AccreditationChangedV1,
    AccreditationScope,
    DidMethod,
    Event,
    InstitutionRegisteredV1,
    InstitutionStatus,
    KeyAction,
)


class FakeTenants:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.events: list[Event] = []

    async def insert(self, doc: dict[str, Any], events: Sequence[Event]) -> bool:
        if doc["_id"] in self.docs:
            return False
        self.docs[doc["_id"]] = doc
        self.events.extend(events)
        return True

    async def get(self, institution_id: str) -> Tenant | None:
        doc = self.docs.get(institution_id)
        return Tenant.model_validate(doc) if doc else None

    async def replace_keys(
        self,
        institution_id: str,
        *,
        expected_active_key_id: str,
        keys: Sequence[KeyRecord],
        active_key_id: str,
        events: Sequence[Event],
        expected_p256_key_id: str | None = None,
        active_p256_key_id: str | None = None,
    ) -> bool:
        doc = self.docs[institution_id]
        if doc["active_key_id"] != expected_active_key_id:
            return False
        if doc.get("active_p256_key_id") != expected_p256_key_id:
            return False
        doc["keys"] = [k.model_dump() for k in keys]
        doc["active_key_id"] = active_key_id
        doc["active_p256_key_id"] = active_p256_key_id
        self.events.extend(events)
        return True

    async def set_status(self, institution_id: str, status: str) -> None:
        if institution_id in self.docs:
            self.docs[institution_id]["status"] = status

    async def set_settings(self, institution_id: str, settings: InstitutionSettings) -> bool:
        if institution_id not in self.docs:
            return False
        self.docs[institution_id]["settings"] = settings.model_dump()
        return True


class FakeAccreditations:
    """Newest-wins store, as ``AccreditationRepository``."""

    def __init__(self) -> None:
        self.docs: dict[str, Accreditation] = {}

    async def get(self, institution_id: str) -> Accreditation | None:
        return self.docs.get(institution_id)

    async def save(self, accreditation: Accreditation) -> bool:
        current = self.docs.get(accreditation.institution_id)
        if current is not None and current.occurred_at > accreditation.occurred_at:
            return False
        self.docs[accreditation.institution_id] = accreditation
        return True


def announcement(**changes: Any) -> InstitutionRegisteredV1:
    values: dict[str, Any] = {
        "producer": "registry",
        "institution_id": "c1",
        "legal_name": {"fr": "Collège", "en": "College"},
        "category": "college",
        "jurisdiction": "CA-ON",
    }
    values.update(changes)
    return InstitutionRegisteredV1(**values)


@pytest.fixture
def repo() -> FakeTenants:
    return FakeTenants()


@pytest.fixture
def service(repo: FakeTenants, vault: Vault) -> TenantService:
    return TenantService(
        repo,  # type: ignore[arg-type]
        vault,
        producer="sceau-issuer",
        registry_public_url="https://registry.example",
        accreditations=FakeAccreditations(),  # type: ignore[arg-type]
    )


async def test_register_once_with_encrypted_key(service: TenantService, repo: FakeTenants) -> None:
    assert await service.register(announcement())
    assert not await service.register(announcement())
    tenant = await service.get("c1")
    key = service.signing_key(tenant)
    assert tenant.did == key.controller
    assert tenant.did.startswith("did:key:")
    stored = repo.docs["c1"]["keys"][0]["secret"]
    assert key.seed not in stored["ciphertext"]
    [event] = repo.events
    assert event.model_dump()["public_key_multibase"] == key.public_key_multibase  # type: ignore[attr-defined]
    assert key.seed.hex() not in event.model_dump_json()


async def test_hosted_did_uses_registry_host(service: TenantService) -> None:
    await service.register(announcement(did_method=DidMethod.HOSTED_WEB))
    tenant = await service.get("c1")
    assert tenant.did == "did:web:registry.example:institutions:c1"
    assert service.signing_key(tenant).verification_method == tenant.did + "#key-1"


async def test_rotation_and_revocation(service: TenantService, repo: FakeTenants) -> None:
    await service.register(announcement(did_method=DidMethod.WEB, domain="c1.example"))
    new = await service.rotate("c1", "Ed25519")
    assert new.key_id == "k2"
    assert new.verification_method == "did:web:c1.example#key-2"
    tenant = await service.get("c1")
    assert [(k.key_id, k.state) for k in tenant.keys] == [
        ("k1", "rotated"),
        ("p1", "active"),
        ("k2", "active"),
    ]
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    await service.revoke("c1", "k2", as_of)
    tenant = await service.get("c1")
    assert tenant.active_key_id == "k3"
    assert tenant.active_p256_key_id == "p1"
    assert [k.state for k in tenant.keys] == ["rotated", "active", "revoked", "active"]
    actions = [e.action for e in repo.events]  # type: ignore[attr-defined]
    assert actions == [
        KeyAction.ADDED,
        KeyAction.ADDED,
        KeyAction.ROTATED,
        KeyAction.ADDED,
        KeyAction.REVOKED,
        KeyAction.ADDED,
    ]
    with pytest.raises(KeyConflict):
        await service.revoke("c1", "k2", as_of)


def accreditation_event(status: str, *, at: datetime) -> AccreditationChangedV1:
    return AccreditationChangedV1(
        producer="registry",
        institution_id="c1",
        status=InstitutionStatus(status),
        scopes=[AccreditationScope(achievement_types=["MicroCredential"], valid_from=at)],
        effective_at=at,
        occurred_at=at,
    )


async def test_accreditation_first_then_registration(service: TenantService) -> None:
    """The two registry topics are consumed apart: the accreditation may come first."""
    assert await service.apply_accreditation(
        accreditation_event("suspended", at=datetime(2026, 3, 1, tzinfo=UTC))
    )
    await service.register(announcement())
    tenant = await service.get("c1")
    assert tenant.status == "suspended"
    record = await service.accreditation("c1")
    assert record is not None
    assert record.scopes[0].achievement_types == ["MicroCredential"]


async def test_newest_accreditation_wins(service: TenantService) -> None:
    await service.register(announcement())
    newer = accreditation_event("active", at=datetime(2026, 3, 2, tzinfo=UTC))
    older = accreditation_event("pending", at=datetime(2026, 3, 1, tzinfo=UTC))
    assert await service.apply_accreditation(newer)
    assert not await service.apply_accreditation(older)  # delivered late: ignored
    assert await service.apply_accreditation(newer)  # a redelivery changes nothing
    assert (await service.get("c1")).status == "active"
    record = await service.accreditation("c1")
    assert record is not None
    assert record.status == "active"


async def test_suspension_is_off_by_default_and_turned_on_by_name(
    service: TenantService, repo: FakeTenants
) -> None:
    await service.register(announcement())
    assert "settings" not in repo.docs["c1"]  # tenants stored before the setting existed
    tenant = await service.get("c1")
    assert tenant.settings == InstitutionSettings(suspension=False, updated_at=None)
    on = await service.update_settings("c1", suspension=True)
    assert on.suspension is True
    assert on.updated_at is not None
    assert (await service.get("c1")).settings == on
    assert await service.update_settings("c1", suspension=True) == on  # repeating: a no-op
    off = await service.update_settings("c1", suspension=False)
    assert off.suspension is False
    assert off.updated_at is not None
    assert off.updated_at >= on.updated_at
    with pytest.raises(InstitutionNotFound):
        await service.update_settings("nobody", suspension=True)


async def test_did_web_tenant_gets_a_p256_key_encrypted_and_announced(
    service: TenantService, repo: FakeTenants
) -> None:
    await service.register(announcement(did_method=DidMethod.HOSTED_WEB))
    tenant = await service.get("c1")
    p256 = tenant.active_p256_key
    assert p256 is not None
    assert (p256.key_id, p256.key_type, p256.did) == ("p1", KeyType.P256, tenant.did)
    assert p256.verification_method == tenant.did + "#p256-1"
    assert p256.public_key_multibase.startswith("zDn")
    key = service.signing_key(tenant, profile="jwt")
    assert isinstance(key, P256SigningKey)
    assert key.public_key_multibase == p256.public_key_multibase
    stored = repo.docs["c1"]["keys"][1]["secret"]
    assert key.scalar not in stored["ciphertext"]
    events = [e.model_dump() for e in repo.events]
    assert [e["verification_method"] for e in events] == [
        tenant.did + "#key-1",
        tenant.did + "#p256-1",
    ]
    assert key.scalar.hex() not in json.dumps([e.model_dump_json() for e in repo.events])
    # The JSON-LD profiles and the explicit EdDSA choice keep the Ed25519 key.
    assert isinstance(service.signing_key(tenant, profile="ob3-v2"), SigningKey)
    await service.update_settings("c1", suspension=False, jwt_algorithm=JwtAlgorithm.EDDSA)
    tenant = await service.get("c1")
    assert tenant.settings.jwt_algorithm is JwtAlgorithm.EDDSA
    assert isinstance(service.signing_key(tenant, profile="jwt"), SigningKey)


async def test_did_key_tenant_has_no_p256_key(service: TenantService) -> None:
    await service.register(announcement())
    tenant = await service.get("c1")
    assert tenant.active_p256_key is None
    assert not tenant.wants_p256_key
    assert isinstance(service.signing_key(tenant, profile="jwt"), SigningKey)


async def test_existing_did_web_tenant_gets_its_p256_key_on_first_use(
    service: TenantService, repo: FakeTenants
) -> None:
    await service.register(announcement(did_method=DidMethod.HOSTED_WEB))
    doc = repo.docs["c1"]  # as written before P-256 keys existed
    doc["keys"] = doc["keys"][:1]
    del doc["active_p256_key_id"]
    repo.events.clear()
    tenant = await service.get("c1")
    assert tenant.active_p256_key_id == "p1"
    assert (await service.get("c1")).active_p256_key_id == "p1"  # once
    [event] = repo.events
    assert event.model_dump()["verification_method"] == tenant.did + "#p256-1"


async def test_rotating_all_keys_and_revoking_the_p256_one(
    service: TenantService, repo: FakeTenants
) -> None:
    await service.register(announcement(did_method=DidMethod.HOSTED_WEB))
    news = await service.rotate_keys("c1")
    assert [k.key_id for k in news] == ["k2", "p2"]
    tenant = await service.get("c1")
    assert (tenant.active_key_id, tenant.active_p256_key_id) == ("k2", "p2")
    assert tenant.key("p1").state == "rotated"
    [only] = await service.rotate_keys("c1", "P-256")
    assert only.key_id == "p3"
    revoked = await service.revoke("c1", "p3", datetime(2026, 3, 1, tzinfo=UTC))
    assert revoked.state == "revoked"
    tenant = await service.get("c1")
    assert (tenant.active_key_id, tenant.active_p256_key_id) == ("k2", "p4")
    assert tenant.key("p2").state == "rotated"
    with pytest.raises(KeyNotFound):
        await service.revoke("c1", "p9", datetime(2026, 3, 1, tzinfo=UTC))

"""Tenant logic with an in-memory repository: creation, idempotence, rotation, revocation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from sceau_issuer.errors import InstitutionNotFound, KeyConflict
from sceau_issuer.tenants.accreditation import Accreditation
from sceau_issuer.tenants.models import InstitutionSettings, KeyRecord, Tenant
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
    ) -> bool:
        doc = self.docs[institution_id]
        if doc["active_key_id"] != expected_active_key_id:
            return False
        doc["keys"] = [k.model_dump() for k in keys]
        doc["active_key_id"] = active_key_id
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
    new = await service.rotate("c1")
    assert new.key_id == "k2"
    assert new.verification_method == "did:web:c1.example#key-2"
    tenant = await service.get("c1")
    assert [k.state for k in tenant.keys] == ["rotated", "active"]
    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    await service.revoke("c1", "k2", as_of)
    tenant = await service.get("c1")
    assert tenant.active_key_id == "k3"
    assert [k.state for k in tenant.keys] == ["rotated", "revoked", "active"]
    actions = [e.action for e in repo.events]  # type: ignore[attr-defined]
    assert actions == [
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

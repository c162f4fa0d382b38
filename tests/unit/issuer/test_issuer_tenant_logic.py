"""Tenant logic with an in-memory repository: creation, idempotence, rotation, revocation."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import pytest

from sceau_issuer.errors import KeyConflict
from sceau_issuer.tenants.models import KeyRecord, Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_issuer.vault import Vault
from sceau_shared.events import DidMethod, Event, InstitutionRegisteredV1, KeyAction


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
        self.docs[institution_id]["status"] = status


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

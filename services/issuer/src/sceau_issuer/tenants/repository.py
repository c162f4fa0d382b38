"""Every MongoDB query on the ``institutions`` collection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_issuer.tenants.accreditation import Accreditation
from sceau_issuer.tenants.models import InstitutionSettings, KeyRecord, Tenant
from sceau_shared.events import Event
from sceau_shared.outbox import outbox_entry


class TenantRepository:
    """Institutions (tenants) with their keys; one document per institution."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Nothing beyond ``_id`` (the institution id)."""

    async def insert(self, doc: dict[str, Any], events: Sequence[Event]) -> bool:
        """Insert a new tenant with its events in its outbox; False if it already exists."""
        try:
            await self._collection.insert_one({**doc, "outbox": [outbox_entry(e) for e in events]})
        except DuplicateKeyError:
            return False
        return True

    async def get(self, institution_id: str) -> Tenant | None:
        """Return a tenant, or None."""
        doc = await self._collection.find_one({"_id": institution_id}, {"outbox": 0})
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
        """Store a new key list if nobody changed the keys meanwhile (optimistic concurrency).

        Both active keys are compared (a missing P-256 key reads as ``None``, which also matches
        a document written before P-256 keys existed), so two rotations of different key types
        cannot overwrite each other's key list.
        """
        result = await self._collection.update_one(
            {
                "_id": institution_id,
                "active_key_id": expected_active_key_id,
                "active_p256_key_id": expected_p256_key_id,
            },
            {
                "$set": {
                    "keys": [k.model_dump() for k in keys],
                    "active_key_id": active_key_id,
                    "active_p256_key_id": active_p256_key_id,
                },
                "$push": {"outbox": {"$each": [outbox_entry(e) for e in events]}},
            },
        )
        return result.modified_count == 1

    async def set_status(self, institution_id: str, status: str) -> None:
        """Record the institution's registry status (issuing is refused unless active)."""
        await self._collection.update_one({"_id": institution_id}, {"$set": {"status": status}})

    async def set_settings(self, institution_id: str, settings: InstitutionSettings) -> bool:
        """Store the institution's settings; False when there is no such tenant."""
        result = await self._collection.update_one(
            {"_id": institution_id}, {"$set": {"settings": settings.model_dump()}}
        )
        return result.matched_count == 1

    async def all_dids(self) -> set[str]:
        """Every DID any tenant's keys were issued under (a scan of a few dozen documents)."""
        dids: set[str] = set()
        async for doc in self._collection.find({}, {"keys.did": 1}):
            dids.update(str(k["did"]) for k in doc.get("keys", []) if k.get("did"))
        return dids

    async def all_ids(self) -> list[str]:
        """Return every tenant id (operators' tooling)."""
        return [str(d["_id"]) async for d in self._collection.find({}, {"_id": 1})]


class AccreditationRepository:
    """The latest accreditation per institution (``accreditations``, ``_id`` = institution id).

    Kept apart from the tenant document because the registry's two topics (institution
    registered, accreditation changed) are consumed independently: an accreditation may arrive
    before the tenant exists and must not be lost.
    """

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Nothing beyond ``_id`` (the institution id)."""

    async def get(self, institution_id: str) -> Accreditation | None:
        """Return the institution's accreditation, or None when none arrived yet."""
        doc = await self._collection.find_one({"_id": institution_id})
        return Accreditation.model_validate(doc) if doc else None

    async def save(self, accreditation: Accreditation) -> bool:
        """Store ``accreditation`` unless a newer one is stored; False when it was older.

        Each event carries the institution's full status and scope set, so the newest one (by
        ``occurred_at``) is the whole truth. An institution's events are consumed in order by one
        consumer (same Kafka key), so this read-then-write is not raced; the retry covers two
        first writes meeting on the unique ``_id``.
        """
        for _ in range(3):
            current = await self.get(accreditation.institution_id)
            if current is not None and current.occurred_at > accreditation.occurred_at:
                return False
            try:
                await self._collection.replace_one(
                    {"_id": accreditation.institution_id}, accreditation.to_doc(), upsert=True
                )
            except DuplicateKeyError:
                continue
            return True
        return False

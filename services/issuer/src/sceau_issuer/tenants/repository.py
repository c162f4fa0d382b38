"""Every MongoDB query on the ``institutions`` collection."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_issuer.tenants.models import KeyRecord, Tenant
from sceau_shared.events import Event
from sceau_shared.outbox import outbox_entry


class TenantRepository:
    """Institutions (tenants) with their keys; one document per institution."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self.collection = collection

    async def ensure_indexes(self) -> None:
        """Nothing beyond ``_id`` (the institution id)."""

    async def insert(self, doc: dict[str, Any], events: Sequence[Event]) -> bool:
        """Insert a new tenant with its events in its outbox; False if it already exists."""
        try:
            await self.collection.insert_one({**doc, "outbox": [outbox_entry(e) for e in events]})
        except DuplicateKeyError:
            return False
        return True

    async def get(self, institution_id: str) -> Tenant | None:
        """Return a tenant, or None."""
        doc = await self.collection.find_one({"_id": institution_id}, {"outbox": 0})
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
        """Store a new key list if nobody changed the keys meanwhile (optimistic concurrency)."""
        result = await self.collection.update_one(
            {"_id": institution_id, "active_key_id": expected_active_key_id},
            {
                "$set": {
                    "keys": [k.model_dump() for k in keys],
                    "active_key_id": active_key_id,
                },
                "$push": {"outbox": {"$each": [outbox_entry(e) for e in events]}},
            },
        )
        return result.modified_count == 1

    async def set_status(self, institution_id: str, status: str) -> None:
        """Record the institution's registry status (issuing is refused unless active)."""
        await self.collection.update_one({"_id": institution_id}, {"$set": {"status": status}})

    async def all_ids(self) -> list[str]:
        """Return every tenant id (operators' tooling)."""
        return [str(d["_id"]) async for d in self.collection.find({}, {"_id": 1})]

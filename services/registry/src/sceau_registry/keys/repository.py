"""Institutions' verification methods as the registry stores them (from the issuer's key events).

Every write here is a single-document upsert that is safe to repeat and to receive out of order,
because Kafka delivers at least once and replays from the start must be harmless.
"""

from __future__ import annotations

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from sceau_registry.keys.models import KeyRecord
from sceau_shared.mongo import Document


def key_from(doc: Document) -> KeyRecord:
    """Rebuild a key record from its stored form."""
    return KeyRecord(
        verification_method=doc["_id"],
        did=doc["did"],
        institution_id=doc["institution_id"],
        public_key_multibase=doc["public_key_multibase"],
        active_from=doc["active_from"],
        rotated_at=doc.get("rotated_at"),
        revoked_as_of=doc.get("revoked_as_of"),
        key_version=int(doc.get("key_version", 1)),
    )


class Keys:
    """Verification methods of institutions with their windows (``_id`` = method id)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Index lookups by DID and by institution."""
        await self._collection.create_index("did")
        await self._collection.create_index("institution_id")

    async def merge(self, record: KeyRecord) -> None:
        """Record what an event says about a key, order-independently and idempotently.

        The window's start comes from the first event seen; an end (rotation, revocation) once
        known is never cleared, so a late or replayed "added" event cannot resurrect a key.
        """
        update: Document = {
            "$setOnInsert": {
                "did": record.did,
                "institution_id": record.institution_id,
                "public_key_multibase": record.public_key_multibase,
                "active_from": record.active_from,
                "key_version": record.key_version,
            },
        }
        ends: Document = {}
        if record.rotated_at is not None:
            ends["rotated_at"] = record.rotated_at
        if record.revoked_as_of is not None:
            ends["revoked_as_of"] = record.revoked_as_of
        if ends:
            update["$set"] = ends
        await self._collection.update_one({"_id": record.verification_method}, update, upsert=True)

    async def for_did(self, did: str) -> list[KeyRecord]:
        """Every recorded key of ``did``."""
        cursor = self._collection.find({"did": did}).sort("active_from", ASCENDING)
        return [key_from(doc) async for doc in cursor]

    async def institution_of(self, did: str) -> str | None:
        """The institution a DID's keys were published for (when the DID is not linked yet)."""
        doc = await self._collection.find_one({"did": did}, {"institution_id": 1})
        return None if doc is None else str(doc["institution_id"])

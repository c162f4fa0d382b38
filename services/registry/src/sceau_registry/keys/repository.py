"""Institutions' verification methods as the registry stores them (from the issuer's key events).

Every write here is a single-document upsert that is safe to repeat and to receive out of order,
because Kafka delivers at least once and replays from the start must be harmless.

A DID's keys are found by primary key, not by filtering ``keys`` on ``did`` (a read of every key
on FerretDB, on each trust-lookup cache miss): ``key_index`` holds numbered slots
``did|<did>|<n>`` naming each method (taken by inserting, before the key is first stored), and
``built`` once the keys stored before the index have their slots (start-up, once per database).
"""

from __future__ import annotations

import contextlib

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

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
        self._index: AsyncCollection[Document] = collection.database["key_index"]

    async def ensure_indexes(self) -> None:
        """Index keys by DID: slots for the keys stored before ``key_index`` (once, at start-up)."""
        if await self._index.find_one({"_id": "built"}, {"_id": 1}) is not None:
            return
        async for doc in self._collection.find({}, {"did": 1, "institution_id": 1}):
            if str(doc["_id"]) not in await self._methods(str(doc["did"])):
                await self._add_slot(str(doc["did"]), str(doc["_id"]), str(doc["institution_id"]))
        with contextlib.suppress(DuplicateKeyError):
            await self._index.insert_one({"_id": "built"})

    async def _slots(self, did: str) -> list[Document]:
        slots: list[Document] = []
        while (slot := await self._index.find_one({"_id": f"did|{did}|{len(slots)}"})) is not None:
            slots.append(slot)
        return slots

    async def _methods(self, did: str) -> list[str]:
        return list(dict.fromkeys(str(s["method"]) for s in await self._slots(did)))

    async def _add_slot(self, did: str, method: str, institution_id: str) -> None:
        n = len(await self._slots(did))
        while True:
            try:
                await self._index.insert_one(
                    {"_id": f"did|{did}|{n}", "method": method, "institution_id": institution_id}
                )
                return
            except DuplicateKeyError:
                n += 1  # another writer took it

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
        method = record.verification_method
        if await self._collection.find_one({"_id": method}, {"_id": 1}) is None:
            await self._add_slot(record.did, method, record.institution_id)  # before the key
        await self._collection.update_one({"_id": method}, update, upsert=True)

    async def for_did(self, did: str) -> list[KeyRecord]:
        """Every recorded key of ``did``."""
        docs = [await self._collection.find_one({"_id": m}) for m in await self._methods(did)]
        found = [key_from(doc) for doc in docs if doc is not None and doc.get("did") == did]
        return sorted(found, key=lambda k: k.active_from)

    async def institution_of(self, did: str) -> str | None:
        """The institution a DID's keys were published for (when the DID is not linked yet)."""
        first = await self._index.find_one({"_id": f"did|{did}|0"})
        return None if first is None else str(first["institution_id"])

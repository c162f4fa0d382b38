"""Idempotency-key reservations of single issuing calls (the ``idempotency`` collection).

A reservation records, before anything is stored, which credential a key is for and a hash of
the request, so a retry (after a timeout, a crash, or concurrently) answers as the first call did.
(The one-by-one path reserves before it signs; a group of single issues reserves while it signs,
and only the credentials whose key won are stored: ``issuing/group_commit.py``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_issuer.issuing.repository import insert_new


@dataclass(frozen=True)
class Reservation:
    """What an Idempotency-Key was first used for."""

    request_hash: str
    credential_id: str
    achievement_version: int


class IdempotencyRepository:
    """One document per ``<institution>|<key>``; its ``_id`` makes the first writer win."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def find(self, idem: str) -> Reservation | None:
        """The reservation of this key, if it was used before."""
        doc = await self._collection.find_one({"_id": idem})
        if doc is None:
            return None
        return Reservation(
            request_hash=str(doc["request_hash"]),
            credential_id=str(doc["credential_id"]),
            achievement_version=int(doc["achievement_version"]),
        )

    async def reserve(
        self,
        idem: str,
        *,
        request_hash: str,
        credential_id: str,
        achievement_version: int,
        at: datetime,
    ) -> bool:
        """Reserve the key; False when a concurrent call reserved it first."""
        try:
            await self._collection.insert_one(
                reservation_document(idem, request_hash, credential_id, achievement_version, at)
            )
        except DuplicateKeyError:
            return False
        return True

    async def reserve_many(self, documents: list[dict[str, Any]]) -> set[int]:
        """Reserve several keys in one unordered insert; return the positions already taken.

        Each reservation is still its own unique-``_id`` insert (atomic on every store), so a
        concurrent call that reserved one of the keys first makes only that position fail.
        """
        return await insert_new(self._collection, documents)

    async def release(self, idem: str, credential_id: str) -> None:
        """Drop a reservation made for ``credential_id`` by a call that was then refused."""
        await self._collection.delete_one({"_id": idem, "credential_id": credential_id})


def reservation_document(
    idem: str, request_hash: str, credential_id: str, achievement_version: int, at: datetime
) -> dict[str, Any]:
    """The stored reservation of one key (``reserve`` and ``reserve_many`` write the same)."""
    return {
        "_id": idem,
        "request_hash": request_hash,
        "credential_id": credential_id,
        "achievement_version": achievement_version,
        "created_at": at,
    }

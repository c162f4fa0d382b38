"""Idempotency-key reservations of single issuing calls (the ``idempotency`` collection).

A reservation records, before anything is signed, which credential a key is for and a hash of
the request, so a retry (after a timeout, a crash, or concurrently) answers as the first call did.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


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
                {
                    "_id": idem,
                    "request_hash": request_hash,
                    "credential_id": credential_id,
                    "achievement_version": achievement_version,
                    "created_at": at,
                }
            )
        except DuplicateKeyError:
            return False
        return True

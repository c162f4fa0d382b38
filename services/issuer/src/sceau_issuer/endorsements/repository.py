"""Every MongoDB query on the ``endorsements`` collection (one document per endorsement).

Each query names the institution it acts for: the endorser (``endorser_id``) for what it signed,
the endorsed institution (``institution_id``) for what it was offered or attached, so no body
reads or decides another's endorsements.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection


class EndorsementRepository:
    """Signed endorsements and their state (pending, accepted, rejected)."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Index the endorsed institution's and the endorser's lookups."""
        await self._collection.create_index(
            [
                ("institution_id", ASCENDING),
                ("achievement_id", ASCENDING),
                ("achievement_version", ASCENDING),
                ("state", ASCENDING),
            ]
        )
        await self._collection.create_index([("endorser_id", ASCENDING), ("created_at", ASCENDING)])

    async def insert(self, doc: dict[str, Any]) -> None:
        """Store a new (pending) endorsement."""
        await self._collection.insert_one(doc)

    async def signed_by(self, endorser_id: str, *, limit: int = 500) -> list[dict[str, Any]]:
        """What an endorser signed, newest first."""
        cursor = self._collection.find(
            {"endorser_id": endorser_id}, sort=[("created_at", DESCENDING)], limit=limit
        )
        return [doc async for doc in cursor]

    async def offered_to(
        self, institution_id: str, achievement_id: str, *, limit: int = 500
    ) -> list[dict[str, Any]]:
        """Endorsements of one of the institution's achievements, newest first."""
        cursor = self._collection.find(
            {"institution_id": institution_id, "achievement_id": achievement_id},
            sort=[("created_at", DESCENDING)],
            limit=limit,
        )
        return [doc async for doc in cursor]

    async def offered(
        self, institution_id: str, achievement_id: str, endorsement_id: str
    ) -> dict[str, Any] | None:
        """One endorsement of the institution's achievement (another's is not found)."""
        return await self._collection.find_one(
            {
                "_id": endorsement_id,
                "institution_id": institution_id,
                "achievement_id": achievement_id,
            }
        )

    async def decide(
        self, institution_id: str, endorsement_id: str, state: str, at: datetime
    ) -> bool:
        """Move a pending endorsement to ``state``; False when it was no longer pending."""
        result = await self._collection.update_one(
            {"_id": endorsement_id, "institution_id": institution_id, "state": "pending"},
            {"$set": {"state": state, "decided_at": at}},
        )
        return result.modified_count == 1

    async def accepted(
        self, institution_id: str, achievement_id: str, version: int
    ) -> list[dict[str, Any]]:
        """The signed documents attached to one achievement version, oldest first."""
        cursor = self._collection.find(
            {
                "institution_id": institution_id,
                "achievement_id": achievement_id,
                "achievement_version": version,
                "state": "accepted",
            },
            {"document": 1, "created_at": 1},
            sort=[("created_at", ASCENDING)],
        )
        return [doc["document"] async for doc in cursor]

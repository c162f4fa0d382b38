"""Every MongoDB query on ``endorsements`` and ``endorsement_attachments``.

``endorsements`` holds one document per endorsement; ``endorsement_attachments`` one per
endorsed achievement version.

Each query names the institution it acts for: the endorser (``endorser_id``) for what it signed,
the endorsed institution (``institution_id``) for what it was offered or attached, so no body
reads or decides another's endorsements.

Issuing reads what is attached to a version for every credential, so that read is a primary-key
lookup (FerretDB plans only ``_id`` lookups without a scan): the attachment document, keyed by
institution, achievement and version, holds the accepted endorsements. It is *derived* from the
endorsements' states after each acceptance (a scan, off the hot path) and replaced only by a set
at least as large (accepted endorsements are never detached), so two acceptances racing each
other converge on the larger set, and an acceptance repeated after a crash repairs it.
"""

from __future__ import annotations

from contextlib import suppress
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import CollectionInvalid, DuplicateKeyError


def attachment_key(institution_id: str, achievement_id: str, version: int) -> str:
    """The ``_id`` of one version's attachment document."""
    return f"{institution_id}|{achievement_id}@{version}"


class EndorsementRepository:
    """Signed endorsements and their state (pending, accepted, rejected)."""

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        attachments: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._collection = collection
        self._attachments = attachments

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
        # Attachments are read by ``_id`` only; the collection exists before the first read.
        with suppress(CollectionInvalid):  # already there
            await self._attachments.database.create_collection(self._attachments.name)

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

    async def attached(
        self, institution_id: str, achievement_id: str, version: int
    ) -> list[dict[str, Any]]:
        """The signed endorsements attached to one version (a primary-key read)."""
        doc = await self._attachments.find_one(
            {"_id": attachment_key(institution_id, achievement_id, version)}
        )
        return list(doc["documents"]) if doc is not None else []

    async def refresh_attached(
        self, institution_id: str, achievement_id: str, version: int
    ) -> None:
        """Rewrite one version's attachment document from the accepted endorsements."""
        documents = await self.accepted(institution_id, achievement_id, version)
        key = attachment_key(institution_id, achievement_id, version)
        # A larger set (a concurrent acceptance) already stored makes the upsert collide: kept.
        with suppress(DuplicateKeyError):
            await self._attachments.replace_one(
                {"_id": key, "count": {"$lte": len(documents)}},
                {"_id": key, "count": len(documents), "documents": documents},
                upsert=True,
            )

    async def accepted(
        self, institution_id: str, achievement_id: str, version: int
    ) -> list[dict[str, Any]]:
        """The signed documents accepted for one achievement version, oldest first (a scan)."""
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

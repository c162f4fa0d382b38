"""Every MongoDB query on the ``achievements`` collection (one document per version)."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError


class AchievementRepository:
    """Achievement versions, always filtered by institution (tenant isolation)."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Index lookups by tenant and achievement."""
        await self._collection.create_index(
            [("institution_id", ASCENDING), ("achievement_id", ASCENDING), ("version", ASCENDING)]
        )

    async def insert_version(self, doc: dict[str, Any]) -> bool:
        """Insert a version; False when that version number exists (a concurrent edit)."""
        try:
            await self._collection.insert_one(
                {**doc, "_id": f"{doc['achievement_id']}@{doc['version']}"}
            )
        except DuplicateKeyError:
            return False
        return True

    async def latest(self, institution_id: str, achievement_id: str) -> dict[str, Any] | None:
        """Return the newest version of an achievement of this institution."""
        return await self._collection.find_one(
            {"institution_id": institution_id, "achievement_id": achievement_id},
            sort=[("version", DESCENDING)],
        )

    async def published(
        self, institution_id: str, achievement_id: str, version: int | None = None
    ) -> dict[str, Any] | None:
        """Return a published version (the newest one unless ``version`` is given)."""
        query: dict[str, Any] = {
            "institution_id": institution_id,
            "achievement_id": achievement_id,
            "state": "published",
        }
        if version is not None:
            query["version"] = version
        return await self._collection.find_one(query, sort=[("version", DESCENDING)])

    async def version(
        self, institution_id: str, achievement_id: str, version: int
    ) -> dict[str, Any] | None:
        """Return one version."""
        return await self._collection.find_one(
            {"institution_id": institution_id, "achievement_id": achievement_id, "version": version}
        )

    async def public_version(self, achievement_id: str, version: int) -> dict[str, Any] | None:
        """A published version whatever its institution (published definitions are public)."""
        return await self._collection.find_one(
            {"achievement_id": achievement_id, "version": version, "state": "published"}
        )

    async def versions(self, institution_id: str, achievement_id: str) -> list[dict[str, Any]]:
        """Return every version, oldest first."""
        cursor = self._collection.find(
            {"institution_id": institution_id, "achievement_id": achievement_id},
            sort=[("version", ASCENDING)],
        )
        return [d async for d in cursor]

    async def mark_published(
        self, institution_id: str, achievement_id: str, version: int, at: Any
    ) -> bool:
        """Publish a draft version."""
        result = await self._collection.update_one(
            {
                "institution_id": institution_id,
                "achievement_id": achievement_id,
                "version": version,
                "state": "draft",
            },
            {"$set": {"state": "published", "published_at": at}},
        )
        return result.modified_count == 1

    async def page(
        self, institution_id: str, *, skip: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Return one page of the institution's achievements (their version 1 documents)."""
        query = {"institution_id": institution_id, "version": 1}
        total = await self._collection.count_documents(query)
        cursor = self._collection.find(
            query, sort=[("created_at", ASCENDING)], skip=skip, limit=limit
        )
        return [d async for d in cursor], total

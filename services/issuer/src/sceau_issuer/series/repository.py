"""Every MongoDB query on the ``series`` collection; every read names the institution."""

from __future__ import annotations

from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection

from sceau_issuer.series.schemas import SeriesStructure


class SeriesRepository:
    """Series definitions (small: a few per institution)."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Index the lookup by component."""
        await self._collection.create_index(
            [("institution_id", ASCENDING), ("components.achievement_id", ASCENDING)]
        )

    async def insert(self, doc: dict[str, Any]) -> None:
        """Store a new series."""
        await self._collection.insert_one(doc)

    async def get(self, institution_id: str, series_id: str) -> dict[str, Any] | None:
        """One series of this institution (another tenant's is simply not found)."""
        return await self._collection.find_one({"_id": series_id, "institution_id": institution_id})

    async def all(self, institution_id: str) -> list[dict[str, Any]]:
        """The institution's series."""
        return [d async for d in self._collection.find({"institution_id": institution_id})]

    async def with_component(
        self, institution_id: str, achievement_id: str, *, progressive_only: bool = False
    ) -> list[dict[str, Any]]:
        """The series that have ``achievement_id`` among their components."""
        query: dict[str, Any] = {
            "institution_id": institution_id,
            "components.achievement_id": achievement_id,
        }
        if progressive_only:
            query["structure"] = SeriesStructure.PROGRESSIVE.value
        return [d async for d in self._collection.find(query)]

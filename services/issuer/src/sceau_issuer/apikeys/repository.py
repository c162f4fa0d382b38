"""Every MongoDB query on the ``api_keys`` collection (hashes only, never a secret)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection


class ApiKeyRepository:
    """One document per key: institution, scopes, secret hash, revocation date."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Index the listing query."""
        await self._collection.create_index("institution_id")

    async def insert(self, doc: dict[str, Any]) -> None:
        """Store a new key."""
        await self._collection.insert_one(doc)

    async def get(self, key_id: str) -> dict[str, Any] | None:
        """One key with its hash (authentication only)."""
        return await self._collection.find_one({"_id": key_id})

    async def listing(self, institution_id: str | None) -> list[dict[str, Any]]:
        """Keys without their hashes, oldest first, optionally of one institution."""
        query: dict[str, Any] = {} if institution_id is None else {"institution_id": institution_id}
        cursor = self._collection.find(query, {"hash": 0}, sort=[("created_at", 1)])
        return [d async for d in cursor]

    async def revoke(self, key_id: str, at: datetime) -> bool:
        """Revoke an active key; False when there is no such active key."""
        result = await self._collection.update_one(
            {"_id": key_id, "revoked_at": None}, {"$set": {"revoked_at": at}}
        )
        return result.matched_count == 1

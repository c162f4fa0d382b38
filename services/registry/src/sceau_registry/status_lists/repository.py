"""Signed status list credentials as the issuer published them, newest version of each list.

The conditional single-document upsert makes late, duplicated or replayed events harmless: a
version can only replace an older one.
"""

from __future__ import annotations

from dataclasses import dataclass

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_shared.mongo import Document


@dataclass(frozen=True)
class StoredDocument:
    """Signed bytes served as they are, with their strong ETag."""

    key: str
    version: int
    body: bytes
    etag: str
    max_age_s: int


class StatusLists:
    """Signed status list credentials; the highest ``version`` of each list wins."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Only ``_id`` (the list id) is queried."""

    async def store_if_newer(self, list_id: str, version: int, fields: Document) -> bool:
        """Replace the stored list only if ``version`` is newer; True if it was stored."""
        try:
            result = await self._collection.update_one(
                {"_id": list_id, "version": {"$lt": version}},
                {"$set": {**fields, "version": version}},
                upsert=True,
            )
        except DuplicateKeyError:
            return False  # a version >= this one is already stored: the late event is ignored
        return result.modified_count == 1 or result.upserted_id is not None

    async def get(self, list_id: str) -> StoredDocument | None:
        """Return the stored list."""
        doc = await self._collection.find_one({"_id": list_id})
        if doc is None:
            return None
        return StoredDocument(
            key=list_id,
            version=int(doc["version"]),
            body=bytes(doc["body"]),
            etag=str(doc["etag"]),
            max_age_s=int(doc["max_age_s"]),
        )

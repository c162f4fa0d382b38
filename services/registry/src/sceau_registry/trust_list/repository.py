"""The registry's current signed trust list (one document, replaced on each re-signing)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pymongo.asynchronous.collection import AsyncCollection

from sceau_shared.mongo import Document

TRUST_LIST_ID = "current"


@dataclass(frozen=True)
class StoredTrustList:
    """The signed trust list and what it was signed from."""

    body: bytes
    etag: str
    fingerprint: str
    signed_at: datetime
    valid_until: datetime


class TrustLists:
    """The current signed trust list (one document)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Only ``_id`` is queried."""

    async def put(self, stored: StoredTrustList) -> None:
        """Replace the current trust list."""
        await self._collection.update_one(
            {"_id": TRUST_LIST_ID},
            {
                "$set": {
                    "body": stored.body,
                    "etag": stored.etag,
                    "fingerprint": stored.fingerprint,
                    "signed_at": stored.signed_at,
                    "valid_until": stored.valid_until,
                }
            },
            upsert=True,
        )

    async def get(self) -> StoredTrustList | None:
        """Return the current trust list."""
        doc = await self._collection.find_one({"_id": TRUST_LIST_ID})
        if doc is None:
            return None
        return StoredTrustList(
            body=bytes(doc["body"]),
            etag=str(doc["etag"]),
            fingerprint=str(doc["fingerprint"]),
            signed_at=doc["signed_at"],
            valid_until=doc["valid_until"],
        )

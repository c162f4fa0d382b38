"""Mongo access for webhook endpoints and the DID → institution map.

The delivery ledgers (e-mails, webhook deliveries) live in
:mod:`sceau_notifier.ledger_repository`, expiry reminders in
:mod:`sceau_notifier.reminder_repository`.
Every endpoint query names its institution: one institution never sees another's endpoints.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from sceau_notifier.ledger_repository import Document


class EndpointRepository:
    """Institutions' webhook endpoints (soft-deleted, so past deliveries keep their endpoint)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db["webhook_endpoints"]

    async def ensure_indexes(self) -> None:
        """Endpoints are listed and routed per institution."""
        await self._c.create_index([("institution_id", ASCENDING), ("deleted", ASCENDING)])

    async def insert(self, doc: Document) -> None:
        """Store a new endpoint."""
        await self._c.insert_one(doc)

    async def get(self, institution_id: str, endpoint_id: str) -> Document | None:
        """One endpoint of one institution (None for another institution's id)."""
        return await self._c.find_one(
            {"_id": endpoint_id, "institution_id": institution_id, "deleted": False}
        )

    async def get_any(self, endpoint_id: str) -> Document | None:
        """An endpoint by id, deleted or not (the dispatcher needs it for queued deliveries)."""
        return await self._c.find_one({"_id": endpoint_id})

    async def list_for(self, institution_id: str) -> list[Document]:
        """An institution's live endpoints, oldest first."""
        cursor = self._c.find({"institution_id": institution_id, "deleted": False}).sort(
            "created_at", ASCENDING
        )
        return [doc async for doc in cursor]

    async def subscribed(
        self, institution_id: str, event_type: str, *, created_before: datetime
    ) -> list[Document]:
        """Enabled endpoints that asked for ``event_type`` and existed when the event happened.

        The creation-time condition keeps a replay of old events from reaching endpoints that
        were registered later.
        """
        cursor = self._c.find(
            {
                "institution_id": institution_id,
                "deleted": False,
                "enabled": True,
                "event_types": event_type,
                "created_at": {"$lte": created_before},
            }
        )
        return [doc async for doc in cursor]

    async def update(
        self, institution_id: str, endpoint_id: str, changes: dict[str, Any]
    ) -> Document | None:
        """Apply changes to one live endpoint of one institution; None if there is none."""
        return await self._c.find_one_and_update(
            {"_id": endpoint_id, "institution_id": institution_id, "deleted": False},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )


class DidDirectory:
    """Which institution an issuer DID belongs to (learned from key publication events)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db["issuer_dids"]

    async def ensure_indexes(self) -> None:
        """Look-ups are by DID, the ``_id``."""

    async def put(self, did: str, institution_id: str, *, at: datetime) -> None:
        """Remember (or confirm) the DID's institution."""
        await self._c.update_one(
            {"_id": did},
            {"$set": {"institution_id": institution_id, "updated_at": at}},
            upsert=True,
        )

    async def institution_of(self, did: str) -> str | None:
        """The institution of ``did``, if a key event named it."""
        doc = await self._c.find_one({"_id": did})
        return str(doc["institution_id"]) if doc else None

"""Mongo access for webhook endpoints, the DID → institution map and expiry reminders.

The delivery ledgers (e-mails, webhook deliveries) live in
:mod:`sceau_notifier.ledger_repository`.
Every endpoint query names its institution: one institution never sees another's endpoints.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase

from sceau_notifier.ledger_repository import Document, insert_ignoring_duplicates


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


class ReminderRepository:
    """Scheduled expiry reminders, one per (source event, offset); the ``_id`` keeps them unique."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db["reminders"]

    async def ensure_indexes(self) -> None:
        """The scheduler asks for due reminders; cancellation is per credential."""
        await self._c.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        await self._c.create_index([("credential_id", ASCENDING)])

    async def schedule(self, docs: Sequence[Document]) -> list[str]:
        """Insert reminders that do not exist yet; return the new ids."""
        return await insert_ignoring_duplicates(self._c, docs)

    async def due(self, now: datetime, limit: int) -> list[Document]:
        """Scheduled reminders whose time has come, earliest first."""
        cursor = (
            self._c.find({"status": "scheduled", "due_at": {"$lte": now}})
            .sort("due_at", ASCENDING)
            .limit(limit)
        )
        return [doc async for doc in cursor]

    async def mark(self, reminder_id: str, status: str, *, at: datetime) -> None:
        """Move one reminder out of ``scheduled`` (handed to a channel, skipped...)."""
        await self._c.update_one(
            {"_id": reminder_id, "status": "scheduled"},
            {"$set": {"status": status, "updated_at": at}},
        )

    async def cancel_for(self, credential_id: str, *, at: datetime) -> int:
        """Cancel a credential's pending reminders (it was revoked or replaced)."""
        result = await self._c.update_many(
            {"credential_id": credential_id, "status": "scheduled"},
            {"$set": {"status": "cancelled", "updated_at": at}},
        )
        return result.modified_count

    async def for_credential(self, credential_id: str) -> list[Document]:
        """All reminders of a credential (operator view and tests)."""
        cursor = self._c.find({"credential_id": credential_id}).sort("due_at", ASCENDING)
        return [doc async for doc in cursor]

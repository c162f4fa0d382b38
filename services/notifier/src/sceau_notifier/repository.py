"""Mongo access for webhook endpoints and the DID → institution map.

The delivery ledgers (e-mails, webhook deliveries) live in
:mod:`sceau_notifier.ledger_repository`, expiry reminders in
:mod:`sceau_notifier.reminder_repository`.
Every endpoint query names its institution: one institution never sees another's endpoints.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from sceau_notifier.ledger_repository import Document


class EndpointRepository:
    """Institutions' webhook endpoints (soft-deleted, so past deliveries keep their endpoint).

    An institution's endpoints are found by primary key: every credential event asks which
    endpoints subscribed, and a filter on ``institution_id`` read every endpoint of every
    institution on FerretDB. ``webhook_endpoint_index`` holds numbered slots
    ``inst|<institution>|<n>`` naming each endpoint (taken by inserting, before the endpoint),
    and ``built`` once the endpoints stored before the index have theirs (start-up, once).
    """

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db["webhook_endpoints"]
        self._index: AsyncCollection[Document] = db["webhook_endpoint_index"]

    async def ensure_indexes(self) -> None:
        """Slots for the endpoints stored before the index (once per database, at start-up)."""
        if await self._index.find_one({"_id": "built"}, {"_id": 1}) is not None:
            return
        async for doc in self._c.find({}, {"institution_id": 1}):
            institution_id = str(doc["institution_id"])
            if str(doc["_id"]) not in await self._ids(institution_id):
                await self._add_slot(institution_id, str(doc["_id"]))
        with contextlib.suppress(DuplicateKeyError):
            await self._index.insert_one({"_id": "built"})

    async def _ids(self, institution_id: str) -> list[str]:
        ids: list[str] = []
        while (
            slot := await self._index.find_one({"_id": f"inst|{institution_id}|{len(ids)}"})
        ) is not None:
            ids.append(str(slot["endpoint"]))
        return ids

    async def _add_slot(self, institution_id: str, endpoint_id: str) -> None:
        n = len(await self._ids(institution_id))
        while True:
            try:
                await self._index.insert_one(
                    {"_id": f"inst|{institution_id}|{n}", "endpoint": endpoint_id}
                )
                return
            except DuplicateKeyError:
                n += 1  # another writer took it

    async def _of(self, institution_id: str) -> list[Document]:
        """The institution's endpoints (deleted ones too), oldest first."""
        docs = [
            await self._c.find_one({"_id": i})
            for i in dict.fromkeys(await self._ids(institution_id))
        ]
        mine = [d for d in docs if d is not None and d.get("institution_id") == institution_id]
        return sorted(mine, key=lambda d: d["created_at"])

    async def insert(self, doc: Document) -> None:
        """Store a new endpoint (its slot first: a crash leaves a slot naming nothing)."""
        await self._add_slot(str(doc["institution_id"]), str(doc["_id"]))
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
        return [doc for doc in await self._of(institution_id) if doc.get("deleted") is False]

    async def subscribed(
        self, institution_id: str, event_type: str, *, created_before: datetime
    ) -> list[Document]:
        """Enabled endpoints that asked for ``event_type`` and existed when the event happened.

        The creation-time condition keeps a replay of old events from reaching endpoints that
        were registered later.
        """
        return [
            doc
            for doc in await self._of(institution_id)
            if doc.get("deleted") is False
            and doc.get("enabled") is True
            and event_type in doc.get("event_types", ())
            and doc["created_at"] <= created_before
        ]

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

"""The registry's outgoing events: an insert-only log, sent by :mod:`sceau_registry.outbox.service`.

Why not the shared embedded outbox? On the project's MongoDB-protocol server (FerretDB 1.24, SQLite
backend) concurrent updates of one document are **not** atomic: measured, 4 concurrent
``find_one_and_update($inc)`` loops of 100 left the counter at 174, and a revision-guarded
``update_one`` "won" 200 times while only 80 changes persisted. An outbox relay trimming the
institution document while an operator changes it therefore silently erased the operator's change.
Inserts with a unique ``_id`` are reliable, so each event is its own document here:

* a change is written to the institution, then its events are inserted with ids derived from the
  change id (``uuid5``), so writing them again is a no-op;
* at start-up every change in every institution's history is checked and any event a crash left
  unwritten is inserted then (:meth:`EventLog.add` is idempotent);
* the relay publishes unpublished events in creation order and then flags them; a crash or a
  concurrent relay may publish one twice, which consumers absorb (they deduplicate on event id).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Final

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_shared.events import Event, utcnow
from sceau_shared.mongo import Document

_NAMESPACE: Final = uuid.UUID("6f1d3c2e-5a47-4f0e-9a0b-3d6c1b2e7f10")


def event_id_for(change_id: str, purpose: str) -> uuid.UUID:
    """A stable event id for the event announcing ``change_id`` (same change → same id)."""
    return uuid.uuid5(_NAMESPACE, f"{change_id}:{purpose}")


class EventLog:
    """Outgoing events, one document each (``_id`` = event id)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Index the relay's scan of unpublished events in order."""
        await self._collection.create_index([("published", ASCENDING), ("created_ns", ASCENDING)])

    async def add(self, events: Sequence[Event]) -> int:
        """Record events to publish, skipping recorded ones; return how many were new."""
        added = 0
        for event in events:
            try:
                await self._collection.insert_one(
                    {
                        "_id": str(event.event_id),
                        "topic": event.TOPIC,
                        "key": event.key.decode(),
                        "event_type": event.event_type,
                        "payload": event.model_dump_json(),
                        "created_ns": time.time_ns(),
                        "created_at": utcnow(),
                        "published": False,
                    }
                )
            except DuplicateKeyError:
                continue
            added += 1
        return added

    async def pending(self, limit: int = 100) -> list[Document]:
        """Unpublished events, oldest first."""
        cursor = (
            self._collection.find({"published": False}).sort("created_ns", ASCENDING).limit(limit)
        )
        return [doc async for doc in cursor]

    async def mark_published(self, event_id: str) -> None:
        """Flag an event as published (only the relay writes this field)."""
        await self._collection.update_one(
            {"_id": event_id}, {"$set": {"published": True, "published_at": utcnow()}}
        )

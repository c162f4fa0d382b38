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

The relay never filters ``events`` by a field (on FerretDB that reads every event ever written,
twice a second): each event gets a **pending marker** first (``events_pending``, ``_id`` = event
id), the relay reads that small collection whole (unpublished events only), the events by
``_id``, and deletes a marker once its event is out. Databases written before the markers get
theirs once, at start-up (:meth:`EventLog.backfill_markers`, recorded in ``events_sweeps``).
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Sequence
from typing import Final

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_shared.events import Event, utcnow
from sceau_shared.mongo import Document

#: A marker whose event is missing is dropped after this long (a writer between its two inserts
#: takes milliseconds; a crash there is repaired by the start-up reconcile, which adds both again).
#: Longer than the governance repair's grace (120 s), so a write that met an outage and lands
#: late still finds its marker.
ORPHAN_MARKER_NS: Final = 600 * 1_000_000_000
_SWEEP_ID: Final = "pending-markers"

_NAMESPACE: Final = uuid.UUID("6f1d3c2e-5a47-4f0e-9a0b-3d6c1b2e7f10")


def event_id_for(change_id: str, purpose: str) -> uuid.UUID:
    """A stable event id for the event announcing ``change_id`` (same change → same id)."""
    return uuid.uuid5(_NAMESPACE, f"{change_id}:{purpose}")


class EventLog:
    """Outgoing events, one document each (``_id`` = event id)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection
        self._pending = collection.database[f"{collection.name}_pending"]
        self._sweeps = collection.database[f"{collection.name}_sweeps"]

    async def ensure_indexes(self) -> None:
        """The relay reads the markers (MongoDB: in order by the index; FerretDB: a few docs)."""
        await self._pending.create_index([("created_ns", ASCENDING)])

    async def backfill_markers(self) -> int:
        """Once per database: markers for unpublished events written before markers existed.

        A scan of ``events`` at start-up, recorded in ``events_sweeps`` so it never runs again.
        """
        if await self._sweeps.find_one({"_id": _SWEEP_ID}, {"_id": 1}) is not None:
            return 0
        added = 0
        async for doc in self._collection.find({"published": False}, {"created_ns": 1}):
            if await self._mark(str(doc["_id"]), int(doc.get("created_ns", 0))):
                added += 1
        with contextlib.suppress(DuplicateKeyError):  # another replica recorded it
            await self._sweeps.insert_one({"_id": _SWEEP_ID, "at": utcnow(), "markers": added})
        return added

    async def _mark(self, event_id: str, created_ns: int) -> bool:
        try:
            await self._pending.insert_one({"_id": event_id, "created_ns": created_ns})
        except DuplicateKeyError:
            return False
        return True

    async def add(self, events: Sequence[Event]) -> int:
        """Record events to publish, skipping recorded ones; return how many were new.

        The marker goes in first, so no stored event is ever without one until published. If
        the event was there already (the usual case: the start-up reconcile adds every event
        again) the marker just made is taken back unless the event still awaits the relay.
        """
        added = 0
        for event in events:
            event_id = str(event.event_id)
            created_ns = time.time_ns()
            marked = await self._mark(event_id, created_ns)
            try:
                await self._collection.insert_one(
                    {
                        "_id": str(event.event_id),
                        "topic": event.TOPIC,
                        "key": event.key.decode(),
                        "event_type": event.event_type,
                        "payload": event.model_dump_json(),
                        "created_ns": created_ns,
                        "created_at": utcnow(),
                        "published": False,
                    }
                )
            except DuplicateKeyError:
                if marked:
                    stored = await self._collection.find_one({"_id": event_id}, {"published": 1})
                    if stored is None or stored.get("published"):
                        await self._pending.delete_one({"_id": event_id})
                continue
            added += 1
        return added

    async def pending(self, limit: int = 100) -> list[Document]:
        """Unpublished events, oldest first (from the markers; each event read by ``_id``)."""
        cursor = self._pending.find({}).sort("created_ns", ASCENDING).limit(limit)
        markers = [doc async for doc in cursor]
        out: list[Document] = []
        now = time.time_ns()
        for marker in markers:
            doc = await self._collection.find_one({"_id": marker["_id"]})
            if doc is not None and not doc.get("published"):
                out.append(doc)
            elif doc is not None or now - int(marker.get("created_ns", 0)) > ORPHAN_MARKER_NS:
                # Published already (a crash before the marker's delete), or an event that was
                # never written (its writer crashed; the start-up reconcile writes both again).
                await self._pending.delete_one({"_id": marker["_id"]})
        return out

    async def mark_published(self, event_id: str) -> None:
        """Flag an event as published (only the relay writes this field), then drop its marker."""
        await self._collection.update_one(
            {"_id": event_id}, {"$set": {"published": True, "published_at": utcnow()}}
        )
        await self._pending.delete_one({"_id": event_id})

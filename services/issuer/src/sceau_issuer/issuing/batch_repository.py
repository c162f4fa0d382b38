"""Every MongoDB query on cohort batches and their chunks, inputs and work queue.

A batch document holds progress and the worker's lease; chunk documents hold up to ``chunk_size``
recipient lines and, once issued, the chunk's events (outbox); recipients themselves are kept
apart in ``batch_inputs`` so the documents the outbox relay reads stay small.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_issuer.pending_repository import mark_pending
from sceau_shared.events import Event
from sceau_shared.outbox import outbox_entry

#: Chunks (and their recipients) stored per ``insert_many``.
_STORE_GROUP = 50


def batch_id_for(idem: str) -> str:
    """A batch's ``_id``, derived from its ``<institution>|<Idempotency-Key>``.

    A retry finds the batch its key created by primary key (the only lookup FerretDB 1.24 answers
    from an index); 32 hex digits, like the random ids batches had before.
    """
    return hashlib.sha256(f"batch|{idem}".encode()).hexdigest()[:32]


def chunk_id(batch_id: str, number: int) -> str:
    """Deterministic chunk ids: chunks are found by primary key, never by a scan."""
    return f"{batch_id}:{number:05d}"


class BatchRepository:
    """``batches``, ``batch_chunks`` and ``batch_inputs``; reads always name the institution.

    Recipients are stored apart from the chunks (``batch_inputs``): chunk documents carry the
    outbox and are scanned by the outbox relay, which on FerretDB reads every document in full,
    so they are kept small.
    """

    def __init__(
        self,
        batches: AsyncCollection[dict[str, Any]],
        chunks: AsyncCollection[dict[str, Any]],
        inputs: AsyncCollection[dict[str, Any]],
        queue: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._batches = batches
        self._chunks = chunks
        self._inputs = inputs
        self._queue = queue

    async def chunk(self, batch_id: str, number: int) -> dict[str, Any] | None:
        """A chunk with its recipients merged back into its items."""
        doc = await self._chunks.find_one({"_id": chunk_id(batch_id, number)}, {"outbox": 0})
        if doc is None:
            return None
        inputs = await self._inputs.find_one({"_id": doc["_id"]})
        recipients = (inputs or {}).get("recipients", [])
        for item, recipient in zip(doc["items"], recipients, strict=False):
            item["recipient"] = recipient
        return doc

    async def ensure_indexes(self) -> None:
        """One batch per idempotency key (its ``_id`` is derived from it, too).

        Also queues the unfinished batches stored before the work queue existed (start-up only;
        ``batches`` holds one small document per batch).
        """
        await self._batches.create_index("idem", unique=True)
        unfinished = {"state": {"$in": ["accepting", "pending", "running", "paused"]}}
        async for doc in self._batches.find(unfinished, {"_id": 1}):
            with contextlib.suppress(DuplicateKeyError):
                await self._queue.insert_one({"_id": doc["_id"]})

    async def items(self, batch: dict[str, Any]) -> list[dict[str, Any]]:
        """Every recipient line of a batch, in order."""
        out: list[dict[str, Any]] = []
        for number in range(int(batch["chunks"])):
            doc = await self.chunk(batch["_id"], number)
            if doc is not None:
                out.extend(doc["items"])
        return out

    async def by_idem(self, idem: str, *, legacy: bool = False) -> dict[str, Any] | None:
        """The batch an idempotency key created, if any (by its derived ``_id``).

        ``legacy`` also looks the key up by field, for a batch stored before ids were derived
        (only after an insert was refused: never on the ordinary path).
        """
        doc = await self._batches.find_one({"_id": batch_id_for(idem)})
        if doc is not None and doc.get("idem") == idem:
            return doc
        return await self._batches.find_one({"idem": idem}) if legacy else None

    async def insert(self, doc: dict[str, Any]) -> bool:
        """Store a new batch; False when a concurrent call stored one for the same key."""
        try:
            await self._batches.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def store_chunks(
        self, chunks: Sequence[dict[str, Any]], inputs: Sequence[dict[str, Any]]
    ) -> bool:
        """Store chunks and their recipients; True once every chunk is there.

        Already-stored chunks (a retry after a crash) are refused as duplicates: fine, their ids
        are deterministic.
        """
        for start in range(0, len(chunks), _STORE_GROUP):
            with contextlib.suppress(Exception):
                await self._inputs.insert_many(
                    list(inputs[start : start + _STORE_GROUP]), ordered=False
                )
            with contextlib.suppress(Exception):
                await self._chunks.insert_many(
                    list(chunks[start : start + _STORE_GROUP]), ordered=False
                )
        for doc in chunks:
            if await self._chunks.find_one({"_id": doc["_id"]}, {"_id": 1}) is None:
                return False
        return True

    async def open(self, batch_id: str, *, repeated: int) -> None:
        """Hand an accepted batch to the workers, with its in-batch duplicates counted.

        The batch enters the work queue (``batch_queue``, one document per unfinished batch)
        before its state changes, so the workers' poll reads that short queue instead of every
        batch ever accepted; an entry for a batch that is not pending is skipped.
        """
        with contextlib.suppress(DuplicateKeyError):
            await self._queue.insert_one({"_id": batch_id})
        await self._batches.update_one(
            {"_id": batch_id, "state": "accepting"},
            {"$set": {"state": "pending", "counts.duplicate": repeated}},
        )

    async def get(self, institution_id: str, batch_id: str) -> dict[str, Any] | None:
        """One batch of this institution (another tenant's is simply not found)."""
        return await self._batches.find_one({"_id": batch_id, "institution_id": institution_id})

    async def claim(
        self, token: str, now: datetime, lease_until: datetime
    ) -> dict[str, Any] | None:
        """Lease a pending batch, a running one whose worker's lease expired, or a paused one due.

        Candidates come from the queue (small); each is claimed by primary key.
        """
        async for entry in self._queue.find({}, {"_id": 1}):
            claimed = await self._claim_one(str(entry["_id"]), token, now, lease_until)
            if claimed is not None:
                return claimed
        return None

    async def _claim_one(
        self, batch_id: str, token: str, now: datetime, lease_until: datetime
    ) -> dict[str, Any] | None:
        return await self._batches.find_one_and_update(
            {
                "_id": batch_id,
                "state": {"$in": ["pending", "running", "paused"]},
                "$or": [{"lease_until": None}, {"lease_until": {"$lt": now}}],
            },
            {
                "$set": {
                    "state": "running",
                    "lease_until": lease_until,
                    "lease_token": token,
                    "started_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )

    async def renew(
        self, batch_id: str, token: str, lease_until: datetime, counts: dict[str, int]
    ) -> bool:
        """Extend the lease and add progress; False when another worker holds the batch now."""
        update: dict[str, Any] = {"$set": {"lease_until": lease_until}}
        increments = {f"counts.{k}": v for k, v in counts.items() if v}
        if increments:
            update["$inc"] = increments
        result = await self._batches.update_one({"_id": batch_id, "lease_token": token}, update)
        return result.matched_count == 1

    async def complete(
        self,
        batch_id: str,
        token: str,
        *,
        at: datetime,
        counts: dict[str, int],
        report: dict[str, Any],
    ) -> None:
        """Record the final counts and report, releasing the lease; leave the queue."""
        result = await self._batches.update_one(
            {"_id": batch_id, "lease_token": token},
            {
                "$set": {
                    "state": "completed",
                    "completed_at": at,
                    "lease_until": None,
                    "counts": counts,
                    "report": report,
                }
            },
        )
        if result.matched_count:
            await self._queue.delete_one({"_id": batch_id})

    async def pause(
        self,
        batch_id: str,
        token: str,
        *,
        reason: str,
        detail: str,
        at: datetime,
        recheck_at: datetime,
    ) -> None:
        """Park a batch the institution may not issue now; it is claimed again at ``recheck_at``.

        The batch stays in the work queue; its state and reason say why it does not progress.
        """
        await self._batches.update_one(
            {"_id": batch_id, "lease_token": token},
            {
                "$set": {
                    "state": "paused",
                    "paused_reason": reason,
                    "paused_detail": detail,
                    "paused_at": at,
                    "lease_until": recheck_at,
                    "lease_token": None,
                }
            },
        )

    async def record_chunk(
        self,
        chunk: str,
        items: list[dict[str, Any]],
        events: Sequence[Event],
        *,
        awards_due: bool = False,
    ) -> list[dict[str, Any]] | None:
        """Mark a pending chunk done with its lines and events; return its outbox entries.

        ``None`` when the chunk already was done (a run that died recorded it). ``awards_due``
        records, in the same update, that the series' award step is still to run for this
        chunk's recipients (cleared by :meth:`awards_done`). The events' pending marker is
        written first (``sceau_issuer.pending_repository``).
        """
        entries = [outbox_entry(e) for e in events]
        await mark_pending(self._chunks, [(chunk, entries)])
        result = await self._chunks.update_one(
            {"_id": chunk, "state": "pending"},
            {
                "$set": {"state": "done", "items": items, "awards_due": awards_due},
                "$push": {"outbox": {"$each": entries}},
            },
        )
        return entries if result.modified_count else None

    async def awards_done(self, chunk: str) -> None:
        """The series' award step ran for this chunk's recipients."""
        await self._chunks.update_one({"_id": chunk}, {"$set": {"awards_due": False}})

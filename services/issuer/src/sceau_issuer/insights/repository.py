"""Every MongoDB query of the insights: counters and the per-credential tally, all by ``_id``.

Counting must stay cheap at hundreds of thousands of credentials, and on FerretDB 1.24 only an
``_id`` equality uses an index. So nothing is ever counted by scanning: each event increments
counters kept beside the data, in documents whose ``_id`` is derived from what they count.

- ``insights_counters``: one document per (institution, achievement),
  ``<institution>|<achievement>``, holding the achievement's totals, one sub-document per
  cohort (a batch, or ``single`` for credentials issued one by one) and the targets the
  institution set; plus one index document per institution, ``<institution>|``, naming its
  achievements. A report reads the index, then each achievement's
  document: a handful of primary-key lookups, whatever the data.
- ``insights_credentials``: one small document per credential under the sha256 of its id (the
  key the verifier's events carry: no learner data), naming its cell (institution, achievement,
  cohort) and which once-per-credential facts were already counted. Marking a fact is a
  conditional update of that one document, so a redelivered event counts nothing. A copy of a
  credential shared with fields hidden has another id: it is stored as an alias of the original.
- ``insights_events``: one marker per counted verification event (``_id``: the event id), so a
  redelivered event is not counted twice in the verifications total.
- ``insights_pending``: verifications of one of our institutions' credentials that arrived
  before the credential's tally (the verifier names a credential by hash only, so its issued
  event may not be counted yet); keyed by the hash, taken when the tally is made. Almost always
  empty, so taking a consumed batch's keys with one ``$in`` (a scan on FerretDB) costs nothing;
  entries older than :data:`PENDING_TTL` are dropped.

The marker (or flag) is written before the counters: a crash between the two loses one count,
never adds one.

FerretDB 1.24 applies an update as read-modify-write: two updates of one document in flight
together can lose one (200 concurrent ``$inc`` of one document were seen to leave 16). So every
update here holds a lock striped by the document's ``_id``: the consumers and the learner routes
of one issuer process never update the same document at once. Two issuer processes on FerretDB
can still lose a count; on MongoDB ``$inc`` is atomic and the counters are exact.
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

import pymongo
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import (
    BulkWriteError,
    CollectionInvalid,
    DuplicateKeyError,
    OperationFailure,
)

#: Counters of every cell, in report order.
METRICS = ("issued", "accepted", "shared", "verified", "verifications", "revoked")
#: Once-per-credential facts (a flag on the credential's tally document each).
FACTS = ("accepted", "shared", "verified", "revoked")
#: Cohort of credentials issued one by one (batches are named by their id: 32 hex digits).
SINGLE = "single"
#: Metrics an institution may set a target for (R78).
TARGETED = ("issued", "accepted", "shared", "verified")
#: Locks the updates are striped over (see the module's last paragraph).
_STRIPES = 64
#: How long a verification waits for its credential's tally (the race is about a second).
PENDING_TTL = timedelta(hours=1)
#: MongoDB's "collection already exists" error code (two processes creating it at once).
_NAMESPACE_EXISTS = 48
#: MongoDB's duplicate key error code (a ``writeErrors`` entry of an unordered insert).
_DUPLICATE_KEY = 11000


def counter_id(institution_id: str, achievement_id: str) -> str:
    """The ``_id`` of one achievement's counters."""
    return f"{institution_id}|{achievement_id}"


def index_id(institution_id: str) -> str:
    """The ``_id`` of the document naming an institution's counted achievements."""
    return f"{institution_id}|"


class InsightsRepository:
    """Counters, per-credential tallies and event markers (never a scan)."""

    def __init__(
        self,
        counters: AsyncCollection[dict[str, Any]],
        credentials: AsyncCollection[dict[str, Any]],
        events: AsyncCollection[dict[str, Any]],
        pending: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._counters = counters
        self._credentials = credentials
        self._events = events
        self._pending = pending
        self._stripes = [asyncio.Lock() for _ in range(_STRIPES)]
        self._known: set[str] = set()  # achievements already in their institution's index

    def _lock(self, key: str) -> asyncio.Lock:
        return self._stripes[zlib.crc32(key.encode()) % _STRIPES]

    async def ensure_indexes(self) -> None:
        """Nothing beyond ``_id``; the pending collection made up front (kept near empty).

        Made now so that a lookup in it is planned on its primary key from the first one (a
        missing collection has no plan to show).
        """
        database = self._pending.database
        if self._pending.name not in await database.list_collection_names():
            try:
                await database.create_collection(self._pending.name)
            except CollectionInvalid:
                pass  # another process made it meanwhile
            except OperationFailure as exc:
                if exc.code != _NAMESPACE_EXISTS:
                    raise

    # --- per-credential tallies ---------------------------------------------------------------

    async def tally(self, key: str) -> dict[str, Any] | None:
        """A credential's tally by the sha256 of its id (an alias leads to its original)."""
        doc = await self._credentials.find_one({"_id": key})
        if doc is not None and doc.get("alias_of"):
            doc = await self._credentials.find_one({"_id": doc["alias_of"]})
        return doc

    async def add_tally(self, doc: dict[str, Any]) -> bool:
        """Store a new credential's tally; False if it exists (the credential is counted)."""
        try:
            await self._credentials.insert_one(doc)
        except DuplicateKeyError:
            return False
        return True

    async def add_tallies(self, docs: list[dict[str, Any]]) -> set[str]:
        """Store new credentials' tallies in one unordered insert; the ``_id`` s stored.

        A duplicate ``_id`` is a credential counted already (a redelivery, or another consumer):
        left out of the answer, the others are stored all the same.
        """
        if not docs:
            return set()
        try:
            await self._credentials.insert_many(docs, ordered=False)
        except BulkWriteError as exc:
            errors = exc.details.get("writeErrors", [])
            if any(e.get("code") != _DUPLICATE_KEY for e in errors):
                raise
            skipped = {int(e["index"]) for e in errors}
            return {str(d["_id"]) for n, d in enumerate(docs) if n not in skipped}
        return {str(d["_id"]) for d in docs}

    async def add_alias(self, key: str, original: str) -> None:
        """Name another id (a derived copy) as the same credential (idempotent)."""
        try:
            await self._credentials.insert_one({"_id": key, "alias_of": original})
        except DuplicateKeyError:
            return

    async def mark(self, key: str, fact: str, at: datetime) -> bool:
        """Set a once-per-credential fact; True only the first time (count it then)."""
        result = await self._credentials.update_one({"_id": key, fact: None}, {"$set": {fact: at}})
        return result.modified_count == 1

    async def mark_many(
        self, keys: Sequence[str], fact: str, at: datetime, by: str
    ) -> tuple[set[str], set[str]]:
        """Set a fact on several tallies in one command: ``(marked by this call, not marked)``.

        ``by`` names this call (unique): set beside the fact, it tells this call's marks from
        earlier ones when some tallies were not updated. Those are read back by ``_id``: a
        tally marked by someone else is counted already; one that is missing, or was made (by
        the issued-event consumer) after the update looked for it, is *not marked* and is left
        to the caller's one-by-one path. ``keys`` must be distinct.
        """
        if not keys:
            return set(), set()
        result = await self._credentials.bulk_write(
            [
                pymongo.UpdateOne({"_id": key, fact: None}, {"$set": {fact: at, f"{fact}_by": by}})
                for key in keys
            ],
            ordered=False,
        )
        if result.modified_count == len(keys):
            return set(keys), set()
        docs = await asyncio.gather(
            *(self._credentials.find_one({"_id": key}, {fact: 1, f"{fact}_by": 1}) for key in keys)
        )
        marked = {k for k, d in zip(keys, docs, strict=True) if d and d.get(f"{fact}_by") == by}
        unmarked = {k for k, d in zip(keys, docs, strict=True) if d is None or d.get(fact) is None}
        return marked, unmarked

    async def first_event(self, event_id: str, at: datetime) -> bool:
        """Record an event as counted; False when it was (a redelivery)."""
        try:
            await self._events.insert_one({"_id": event_id, "at": at})
        except DuplicateKeyError:
            return False
        return True

    # --- verifications waiting for their credential's tally ----------------------------------

    async def park(self, key: str, event_id: str, at: datetime) -> None:
        """Keep a verification of a credential not counted yet (idempotent per event)."""
        await self._pending.update_one(
            {"_id": key},
            {"$addToSet": {"events": event_id}, "$setOnInsert": {"at": at}},
            upsert=True,
        )
        # Rare and small: dropping the stale ones here keeps the collection near empty.
        await self._pending.delete_many({"at": {"$lt": at - PENDING_TTL}})

    async def take_pending(self, keys: set[str] | list[str]) -> dict[str, list[str]]:
        """The parked verification event ids of these credentials, removed as they are read.

        Two consumers may both take one entry: counting it is idempotent (a fact is marked
        once, each event id counted once), so a double take counts nothing twice.
        """
        if not keys:
            return {}
        if len(keys) == 1:  # the one-by-one paths: a primary-key read
            (key,) = keys
            doc = await self._pending.find_one({"_id": key})
            if doc is None:
                return {}
            await self._pending.delete_one({"_id": key})
            return {key: [str(e) for e in doc.get("events", [])]}
        found = {
            str(doc["_id"]): [str(e) for e in doc.get("events", [])]
            async for doc in self._pending.find({"_id": {"$in": list(keys)}})
        }
        if found:
            await self._pending.delete_many({"_id": {"$in": list(found)}})
        return found

    # --- counters ------------------------------------------------------------------------------

    async def increment(
        self,
        institution_id: str,
        achievement_id: str,
        cohort: str,
        metric: str,
        *,
        since: datetime | None = None,
        amount: int = 1,
    ) -> None:
        """Add ``amount`` to a metric of an achievement and of its cohort (creating them if new).

        A consumed batch adds each cell's sum in one update instead of one update per credential.
        """
        update: dict[str, Any] = {
            "$inc": {f"totals.{metric}": amount, f"cohorts.{cohort}.{metric}": amount},
            "$setOnInsert": {"institution_id": institution_id, "achievement_id": achievement_id},
        }
        if since is not None:
            update["$min"] = {f"cohorts.{cohort}.since": since}
        key = counter_id(institution_id, achievement_id)
        async with self._lock(key):
            await self._counters.update_one({"_id": key}, update, upsert=True)

    async def remember_achievement(self, institution_id: str, achievement_id: str) -> None:
        """Name an achievement in the institution's index (idempotent)."""
        key = index_id(institution_id)
        if f"{key}{achievement_id}" in self._known:
            return
        async with self._lock(key):
            await self._counters.update_one(
                {"_id": key}, {"$addToSet": {"achievements": achievement_id}}, upsert=True
            )
        self._known.add(f"{key}{achievement_id}")

    async def set_targets(
        self, institution_id: str, achievement_id: str, targets: dict[str, int]
    ) -> None:
        """Replace an achievement's targets (an empty mapping clears them)."""
        await self.remember_achievement(institution_id, achievement_id)
        await self._counters.update_one(
            {"_id": counter_id(institution_id, achievement_id)},
            {
                "$set": {"targets": targets},
                "$setOnInsert": {
                    "institution_id": institution_id,
                    "achievement_id": achievement_id,
                },
            },
            upsert=True,
        )

    async def achievements(self, institution_id: str) -> list[str]:
        """The institution's counted (or targeted) achievements, in first-counted order."""
        doc = await self._counters.find_one({"_id": index_id(institution_id)})
        return [str(a) for a in (doc or {}).get("achievements", [])]

    async def counters(self, institution_id: str, achievement_id: str) -> dict[str, Any] | None:
        """One achievement's counters, cohorts and targets."""
        return await self._counters.find_one({"_id": counter_id(institution_id, achievement_id)})

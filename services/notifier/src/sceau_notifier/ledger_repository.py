"""The delivery ledger: what must be sent, who is sending it, and what has been sent.

One ledger per channel (e-mails, webhook deliveries) keeps three collections:

* ``<name>`` — one **record** per notification, keyed by the notification key (derived from the
  triggering event id), written once: everything needed to send it again byte for byte;
* ``<name>_state`` — the **state** of notifications that are not done yet: ``sending`` (claimed,
  with a lease), ``retrying`` (waiting for ``next_attempt_at``) or ``failed`` (attempts exhausted,
  kept for operators until replayed). Inserting the state document *is* the atomic claim: the
  unique ``_id`` lets exactly one consumer win it;
* ``<name>_done`` — one **marker** per notification that went out, written after the send.

Why three collections rather than one status field: the server we run on (FerretDB 1.24 with its
SQLite backend) resolves an update by scanning the whole collection, while inserts and ``_id``
look-ups stay cheap. Records and markers only ever receive inserts; updates and deletes touch the
state collection, which holds only in-flight and failed notifications and stays small.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from opentelemetry.metrics import Counter
from pymongo import ASCENDING, ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import BulkWriteError

Document = dict[str, Any]

_DUPLICATE_KEY = 11000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class LedgerStatus:
    """Status names shown to operators."""

    PENDING = "pending"
    QUEUED = "queued"
    SENDING = "sending"
    RETRYING = "retrying"
    FAILED = "failed"
    SENT = "sent"


def _owner() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Claim:
    """A notification this process now owns until its lease runs out.

    ``owner`` is the claim's own token, stored in the state: a sender that took the notification
    over after the lease ran out writes its own, so the first sender can tell (:meth:`Ledger.renew`)
    that the notification is no longer its to send.
    """

    key: str
    attempts: int
    owner: str = field(default_factory=_owner)


def _due_filter(now: datetime) -> Document:
    """Work that may be (re)started now: queued or retrying and due, or claimed by a lost sender."""
    return {
        "$or": [
            {
                "status": {"$in": [LedgerStatus.QUEUED, LedgerStatus.RETRYING]},
                "next_attempt_at": {"$lte": now},
            },
            {"status": LedgerStatus.SENDING, "lease_until": {"$lt": now}},
        ]
    }


def _only_duplicates(exc: BulkWriteError) -> list[int]:
    """Return the indexes of the duplicate writes; re-raise when anything else went wrong."""
    errors = exc.details.get("writeErrors", [])
    if any(e.get("code") != _DUPLICATE_KEY for e in errors):
        raise exc
    return [int(e["index"]) for e in errors]


async def insert_ignoring_duplicates(
    collection: AsyncCollection[Document], documents: Sequence[Document]
) -> list[str]:
    """Insert documents, skipping those whose ``_id`` exists; return the ids actually inserted."""
    if not documents:
        return []
    try:
        await collection.insert_many(list(documents), ordered=False)
    except BulkWriteError as exc:
        dup = set(_only_duplicates(exc))
        return [str(d["_id"]) for i, d in enumerate(documents) if i not in dup]
    return [str(d["_id"]) for d in documents]


class Ledger:
    """The three collections of one channel (see the module docstring)."""

    def __init__(
        self,
        db: AsyncDatabase[Document],
        name: str,
        *,
        indexed: Iterable[str] = (),
        deliveries: Counter | None = None,
        channel: str = "",
    ) -> None:
        self._deliveries = deliveries
        self._channel = channel or name
        self.records: AsyncCollection[Document] = db[name]
        self.states: AsyncCollection[Document] = db[f"{name}_state"]
        self.done: AsyncCollection[Document] = db[f"{name}_done"]
        self._indexed = tuple(indexed)

    async def ensure_indexes(self) -> None:
        """Index the operator look-ups and the due-work query."""
        for name in self._indexed:
            await self.records.create_index([(name, ASCENDING), ("created_at", ASCENDING)])
        await self.states.create_index([("status", ASCENDING), ("next_attempt_at", ASCENDING)])

    # --- writing -------------------------------------------------------------------------------

    async def record(self, records: Sequence[Document]) -> list[str]:
        """Store records (idempotent); return the keys that were new."""
        return await insert_ignoring_duplicates(self.records, records)

    async def is_done(self, key: str) -> bool:
        """Whether the notification was already sent."""
        return await self.done.find_one({"_id": key}, {"_id": 1}) is not None

    async def claim_new(
        self,
        keys: Sequence[str],
        *,
        now: datetime,
        lease_until: datetime,
        extra: Mapping[str, Mapping[str, Any]],
    ) -> list[Claim]:
        """Claim notifications nobody claimed yet (the state insert is the atomic claim)."""
        owners = {key: _owner() for key in keys}
        docs = [
            {
                "_id": key,
                "status": LedgerStatus.SENDING,
                "owner": owners[key],
                "attempts": 0,
                "lease_until": lease_until,
                "next_attempt_at": None,
                "last_error": None,
                "created_at": now,
                "updated_at": now,
                **extra.get(key, {}),
            }
            for key in keys
        ]
        won = await insert_ignoring_duplicates(self.states, docs)
        return [Claim(key=k, attempts=0, owner=owners[k]) for k in won]

    async def enqueue(
        self, keys: Sequence[str], *, now: datetime, extra: Mapping[str, Mapping[str, Any]]
    ) -> list[str]:
        """Queue notifications for a background sender (due now); return those newly queued."""
        docs = [
            {
                "_id": key,
                "status": LedgerStatus.QUEUED,
                "attempts": 0,
                "lease_until": None,
                "next_attempt_at": now,
                "last_error": None,
                "created_at": now,
                "updated_at": now,
                **extra.get(key, {}),
            }
            for key in keys
        ]
        return await insert_ignoring_duplicates(self.states, docs)

    async def already_done(self, key: str) -> bool:
        """After winning a claim: if the notification was sent meanwhile, drop the claim.

        A sender marks done *then* drops its state, so a claim inserted after that drop always
        sees the marker here: claim first, then check, never the other way round.
        """
        if await self.is_done(key):
            await self.states.delete_one({"_id": key})
            return True
        return False

    async def due_keys(self, now: datetime, limit: int) -> list[str]:
        """Keys whose retry time has come or whose sender's lease expired (it likely crashed)."""
        cursor = self.states.find(
            _due_filter(now),
            {"_id": 1},
        ).limit(limit)
        return [str(doc["_id"]) async for doc in cursor]

    async def claim_due(self, key: str, *, now: datetime, lease_until: datetime) -> Claim | None:
        """Atomically take over one due notification; None if someone else got it first."""
        owner = _owner()
        doc = await self.states.find_one_and_update(
            {"_id": key, **_due_filter(now)},
            {
                "$set": {
                    "status": LedgerStatus.SENDING,
                    "owner": owner,
                    "lease_until": lease_until,
                    "updated_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if doc is None or doc.get("owner") != owner:
            return None
        return Claim(key=key, attempts=int(doc.get("attempts", 0)), owner=owner)

    async def renew(self, claim: Claim, *, now: datetime, lease_until: datetime) -> bool:
        """Extend a claim's lease just before its send; False when it is no longer ours.

        A batch is claimed at once but sent one notification after another: each one's lease
        must run from the moment its own send starts, not from the batch's claim, or a slow
        relay lets another sender take over notifications still waiting their turn. False means
        another sender took it over (its lease had run out) or it was sent meanwhile.
        """
        doc = await self.states.find_one_and_update(
            {"_id": claim.key, "owner": claim.owner, "status": LedgerStatus.SENDING},
            {"$set": {"lease_until": lease_until, "updated_at": now}},
            return_document=ReturnDocument.AFTER,
        )
        return doc is not None and doc.get("owner") == claim.owner

    async def renew_many(
        self, claims: Sequence[Claim], *, now: datetime, lease_until: datetime
    ) -> set[str]:
        """Extend many claims' leases in one update; return the keys no longer ours.

        One command for the whole set (the filter names each claim's own owner token, so an
        e-mail another sender took over is left alone). Only when fewer were renewed than asked
        is each one looked up to say which were lost (rare: a lease ran out meanwhile).
        """
        if not claims:
            return set()
        result = await self.states.update_many(
            {
                "_id": {"$in": [c.key for c in claims]},
                "owner": {"$in": [c.owner for c in claims]},
                "status": LedgerStatus.SENDING,
            },
            {"$set": {"lease_until": lease_until, "updated_at": now}},
        )
        if result.matched_count >= len(claims):
            return set()
        lost = set()
        for claim in claims:
            doc = await self.states.find_one({"_id": claim.key}, {"owner": 1, "status": 1})
            if doc is None or doc.get("owner") != claim.owner:
                lost.add(claim.key)
        return lost

    async def succeed(self, outcomes: Mapping[str, Mapping[str, Any]], *, now: datetime) -> None:
        """Write the done markers, then drop the states (a crash in between only re-marks)."""
        if not outcomes:
            return
        await insert_ignoring_duplicates(
            self.done, [{"_id": key, "at": now, **info} for key, info in outcomes.items()]
        )
        keys = list(outcomes)
        if len(keys) == 1:
            # Senders settle each e-mail as soon as it went out: a lookup by `_id`. On FerretDB an
            # `$in` filter reads the whole state collection (every claimed e-mail), which per
            # e-mail made a batch cost grow with its square (24 instead of 1,150 e-mails/s).
            await self.states.delete_one({"_id": keys[0]})
        else:
            await self.states.delete_many({"_id": {"$in": keys}})
        if self._deliveries is not None:
            self._deliveries.add(len(outcomes), {"channel": self._channel, "result": "sent"})

    async def fail(
        self,
        key: str,
        *,
        attempts: int,
        error: str,
        now: datetime,
        next_attempt_at: datetime | None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        """Record a failed attempt: ``retrying`` until ``next_attempt_at``, or ``failed``."""
        status = LedgerStatus.RETRYING if next_attempt_at is not None else LedgerStatus.FAILED
        await self.states.update_one(
            {"_id": key},
            {
                "$set": {
                    "status": status,
                    "attempts": attempts,
                    "last_error": error[:500],
                    "next_attempt_at": next_attempt_at,
                    "lease_until": None,
                    "updated_at": now,
                    **(extra or {}),
                }
            },
        )
        if self._deliveries is not None:
            self._deliveries.add(1, {"channel": self._channel, "result": str(status)})
        return status

    async def replay(self, key: str, *, now: datetime) -> bool:
        """Put a failed notification back in the queue with a fresh attempt budget."""
        result = await self.states.update_one(
            {"_id": key, "status": LedgerStatus.FAILED},
            {
                "$set": {
                    "status": LedgerStatus.RETRYING,
                    "attempts": 0,
                    "next_attempt_at": now,
                    "updated_at": now,
                },
                "$inc": {"replays": 1},
            },
        )
        return result.modified_count == 1

    # --- reading -------------------------------------------------------------------------------

    async def get_record(self, key: str) -> Document | None:
        """The stored record of a notification."""
        return await self.records.find_one({"_id": key})

    async def view(self, record: Document) -> Document:
        """Merge a record with its state or done marker into the operator's view."""
        key = record["_id"]
        done = await self.done.find_one({"_id": key})
        if done is not None:
            return {
                **record,
                "status": LedgerStatus.SENT,
                "attempts": int(done.get("attempts", 1)),
                "last_error": done.get("last_error"),
                "completed_at": done.get("at"),
                "next_attempt_at": None,
            }
        state = await self.states.find_one({"_id": key})
        if state is None:
            return {**record, "status": LedgerStatus.PENDING, "attempts": 0, "last_error": None}
        return {
            **record,
            "status": state.get("status"),
            "attempts": int(state.get("attempts", 0)),
            "last_error": state.get("last_error"),
            "next_attempt_at": state.get("next_attempt_at"),
            "replays": int(state.get("replays", 0)),
        }

    async def find_views(
        self, query: Mapping[str, Any], *, status: str | None, limit: int
    ) -> list[Document]:
        """Operator query over records (e.g. by recipient hash or endpoint), newest first.

        With a status of unfinished work the small state collection is read and each record
        fetched by ``_id`` (an ``$in`` or field filter on the records reads all of them on
        FerretDB). Without one, the records are filtered by field: an operator's look-up on
        demand, indexed on MongoDB, a scan of every record on FerretDB (docs/mongodb-features.md).
        """
        if status in {
            LedgerStatus.FAILED,
            LedgerStatus.RETRYING,
            LedgerStatus.SENDING,
            LedgerStatus.QUEUED,
        }:
            return await self._unfinished_views(query, status=status, limit=limit)
        cursor = self.records.find(dict(query)).sort("created_at", -1)
        views: list[Document] = []
        async for record in cursor:
            view = await self.view(record)
            if status is None or view["status"] == status:
                views.append(view)
            if len(views) >= limit:
                break
        return views

    async def _unfinished_views(
        self, query: Mapping[str, Any], *, status: str, limit: int
    ) -> list[Document]:
        """Views of the notifications in ``status``: states first, then records by ``_id``."""
        keys = [
            str(d["_id"])
            async for d in self.states.find({"status": status}, {"_id": 1}).limit(5000)
        ]
        records: list[Document] = []
        for key in keys:
            record = await self.records.find_one({"_id": key})
            if record is not None and all(record.get(k) == v for k, v in query.items()):
                records.append(record)
        records.sort(key=lambda r: r.get("created_at") or _EPOCH, reverse=True)
        views: list[Document] = []
        for record in records:
            view = await self.view(record)
            if view["status"] == status:
                views.append(view)
            if len(views) >= limit:
                break
        return views

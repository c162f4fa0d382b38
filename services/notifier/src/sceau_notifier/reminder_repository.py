"""Scheduled expiry reminders, found by primary key: hour buckets and per-credential slots.

A reminder is one document keyed ``<channel>:<source event id>.r<days>`` (``reminders``). On
FerretDB 1.24 only an ``_id`` equality uses an index, so "which reminders are due?" (every poll)
and "which reminders has this credential?" (every revocation) must not filter ``reminders`` by
a field: that read every reminder ever scheduled, three or four per credential. Instead
``reminder_index`` holds small documents with derived ``_id`` s:

* ``due|<YYYY-MM-DDTHH>|<n>`` — numbered slots of the reminders due in that hour (UTC), each
  naming its reminder; ``due|<hour>|next`` a hint of the next free number (slots are taken by
  inserting: the unique ``_id`` is the atomic claim, so they are dense);
* ``day|<YYYY-MM-DD>`` — the day has at least one bucket (the scheduler skips other days at one
  read each, after a long downtime or a hand-moved test clock);
* ``done|<hour>`` — how many leading slots of the hour are finished (handed over, skipped or
  cancelled), so a poll reads only what is still open;
* ``cursor`` — the oldest hour that may still hold a scheduled reminder; it trails the clock by
  :data:`GRACE` so a reminder written late into the current hour is still seen;
* ``cred|<credential id>|<n>`` — numbered slots naming the reminders of one schedule call;
* ``built`` — the index covers every reminder of the database.

A reminder due before the current hour is filed under the current hour (never behind the
cursor). Databases with reminders written before the index are indexed once by the scheduler's
first round (:meth:`ReminderRepository.build`); until then the old field queries answer.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from sceau_notifier.ledger_repository import Document, insert_ignoring_duplicates

GRACE: Final = timedelta(hours=1)
"""How far the cursor trails the clock: a reminder written late into an hour is still found."""

SCHEDULED: Final = "scheduled"
_HOUR: Final = "%Y-%m-%dT%H"
_BUILT: Final = "built"
_CURSOR: Final = "cursor"


def hour_of(moment: datetime) -> str:
    """The hour bucket (UTC) of a moment; buckets sort as their hours do."""
    return moment.astimezone(UTC).strftime(_HOUR)


def _start_of(hour: str) -> datetime:
    return datetime.strptime(hour, _HOUR).replace(tzinfo=UTC)


class ReminderRepository:
    """Scheduled expiry reminders (``reminders``) and their key index (``reminder_index``)."""

    def __init__(self, db: AsyncDatabase[Document]) -> None:
        self._c: AsyncCollection[Document] = db["reminders"]
        self._ix: AsyncCollection[Document] = db["reminder_index"]
        self._built = False

    async def ensure_indexes(self) -> None:
        """MongoDB indexes of the queries used until the key index is built (older databases)."""
        await self._c.create_index([("status", ASCENDING), ("due_at", ASCENDING)])
        await self._c.create_index([("credential_id", ASCENDING)])

    # --- the key index -------------------------------------------------------------------------

    async def _ready(self) -> bool:
        if not self._built:
            self._built = await self._ix.find_one({"_id": _BUILT}, {"_id": 1}) is not None
        return self._built

    async def prepare(self, now: datetime) -> None:
        """At start-up: a database without reminders needs no build (it is indexed from now on)."""
        if await self._ready() or await self._c.find_one({}, {"_id": 1}) is not None:
            return
        await self._finish_build(now)

    async def build(self, now: datetime) -> int:
        """Once per database: index the scheduled reminders written before the index existed.

        Runs in the scheduler's loop (a background round); reminders scheduled meanwhile index
        themselves, and a reminder indexed twice is read once (see :meth:`due`).
        """
        if await self._ready():
            return 0
        indexed = 0
        async for doc in self._c.find({"status": SCHEDULED}):
            await self._index([doc], now=now)
            indexed += 1
        await self._finish_build(now)
        return indexed

    async def _finish_build(self, now: datetime) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._ix.insert_one({"_id": _CURSOR, "hour": hour_of(now - GRACE)})
        with contextlib.suppress(DuplicateKeyError):
            await self._ix.insert_one({"_id": _BUILT, "at": now})
        self._built = True

    async def _add_slot(self, prefix: str, fields: Document) -> None:
        """Insert at the first free number from the hint (the insert is the claim)."""
        hint = await self._ix.find_one({"_id": f"{prefix}|next"})
        n = int(hint["n"]) if hint is not None else 0
        while True:
            try:
                await self._ix.insert_one({"_id": f"{prefix}|{n}", **fields})
                break
            except DuplicateKeyError:
                n += 1
        with contextlib.suppress(DuplicateKeyError):  # two first writers: either hint will do
            await self._ix.update_one(
                {"_id": f"{prefix}|next"}, {"$max": {"n": n + 1}}, upsert=True
            )

    async def _slots(self, prefix: str, start: int = 0) -> AsyncIterator[tuple[int, Document]]:
        n = start
        while (slot := await self._ix.find_one({"_id": f"{prefix}|{n}"})) is not None:
            yield n, slot
            n += 1

    async def _index(self, docs: Sequence[Document], *, now: datetime) -> None:
        """File reminders under their hour and their credential (before they are inserted)."""
        floor = hour_of(now)
        by_credential: dict[str, list[str]] = {}
        for doc in docs:
            by_credential.setdefault(str(doc["credential_id"]), []).append(str(doc["_id"]))
        for credential_id, ids in by_credential.items():
            await self._add_slot(f"cred|{credential_id}", {"reminders": ids})
        for doc in docs:
            hour = max(hour_of(doc["due_at"]), floor)
            with contextlib.suppress(DuplicateKeyError):
                await self._ix.insert_one({"_id": f"day|{hour[:10]}"})
            await self._add_slot(f"due|{hour}", {"reminder": str(doc["_id"])})

    async def _of_credential(self, credential_id: str) -> list[str]:
        ids: list[str] = []
        async for _, slot in self._slots(f"cred|{credential_id}"):
            ids.extend(str(i) for i in slot.get("reminders", ()))
        return list(dict.fromkeys(ids))

    # --- reminders -----------------------------------------------------------------------------

    async def schedule(self, docs: Sequence[Document], *, now: datetime) -> list[str]:
        """Insert reminders that do not exist yet; return the new ids.

        The index entries go first, so a crash never leaves a reminder nobody finds; a replayed
        event (its first reminder stored already) adds no index entry.
        """
        if not docs:
            return []
        if await self._c.find_one({"_id": docs[0]["_id"]}, {"_id": 1}) is None:
            await self._index(docs, now=now)
        return await insert_ignoring_duplicates(self._c, docs)

    async def due(self, now: datetime, limit: int) -> list[Document]:
        """Scheduled reminders whose time has come (hour by hour, from the cursor)."""
        if not await self._ready():
            cursor = (
                self._c.find({"status": SCHEDULED, "due_at": {"$lte": now}})
                .sort("due_at", ASCENDING)
                .limit(limit)
            )
            return [doc async for doc in cursor]
        stored = await self._ix.find_one({"_id": _CURSOR})
        start = str(stored["hour"]) if stored is not None else hour_of(now - GRACE)
        end = hour_of(now)
        found: dict[str, Document] = {}
        open_from: str | None = None  # the first hour still holding a scheduled reminder
        day = _start_of(start).replace(hour=0)
        while hour_of(day)[:10] <= end[:10] and len(found) < limit:
            if await self._ix.find_one({"_id": f"day|{hour_of(day)[:10]}"}, {"_id": 1}) is None:
                day += timedelta(days=1)
                continue
            for h in range(24):
                hour = hour_of(day + timedelta(hours=h))
                if hour < start or hour > end or len(found) >= limit:
                    continue
                if not await self._scan_hour(hour, now, limit, found) and open_from is None:
                    open_from = hour
            day += timedelta(days=1)
        if len(found) >= limit and open_from is None:
            open_from = start  # stopped early: the rest is looked at next round
        await self._advance(start, min(open_from or end, hour_of(now - GRACE)))
        return sorted(found.values(), key=lambda d: d["due_at"])

    async def _scan_hour(self, hour: str, now: datetime, limit: int, found: dict[str, Any]) -> bool:
        """Collect the hour's due reminders; True if none of its reminders is scheduled."""
        done = await self._ix.find_one({"_id": f"done|{hour}"})
        first = int(done["upto"]) if done is not None else 0
        finished_upto, finished = first, True
        async for n, slot in self._slots(f"due|{hour}", first):
            reminder = await self._c.find_one({"_id": slot["reminder"]})
            if reminder is not None and reminder.get("status") == SCHEDULED:
                finished = False
                if reminder["due_at"] <= now and len(found) < limit:
                    found[str(reminder["_id"])] = reminder
            elif finished:
                finished_upto = n + 1
        if finished_upto > first:
            with contextlib.suppress(DuplicateKeyError):
                await self._ix.update_one(
                    {"_id": f"done|{hour}"}, {"$max": {"upto": finished_upto}}, upsert=True
                )
        return finished

    async def _advance(self, start: str, hour: str) -> None:
        if hour > start:
            await self._ix.update_one({"_id": _CURSOR}, {"$set": {"hour": hour}}, upsert=True)

    async def mark(self, reminder_id: str, status: str, *, at: datetime) -> None:
        """Move one reminder out of ``scheduled`` (handed to a channel, skipped...)."""
        await self._c.update_one(
            {"_id": reminder_id, "status": SCHEDULED},
            {"$set": {"status": status, "updated_at": at}},
        )

    async def cancel_for(self, credential_id: str, *, at: datetime) -> int:
        """Cancel a credential's pending reminders (it was revoked or replaced)."""
        if not await self._ready():
            result = await self._c.update_many(
                {"credential_id": credential_id, "status": SCHEDULED},
                {"$set": {"status": "cancelled", "updated_at": at}},
            )
            return result.modified_count
        cancelled = 0
        for reminder_id in await self._of_credential(credential_id):
            one = await self._c.update_one(
                {"_id": reminder_id, "status": SCHEDULED},
                {"$set": {"status": "cancelled", "updated_at": at}},
            )
            cancelled += one.modified_count
        return cancelled

    async def for_credential(self, credential_id: str) -> list[Document]:
        """All reminders of a credential (operator view and tests)."""
        if not await self._ready():
            cursor = self._c.find({"credential_id": credential_id}).sort("due_at", ASCENDING)
            return [doc async for doc in cursor]
        docs = [
            await self._c.find_one({"_id": i}) for i in await self._of_credential(credential_id)
        ]
        return sorted((d for d in docs if d is not None), key=lambda d: d["due_at"])

"""A log of status changes (``status_changes``), numbered per list, read by primary key only.

Re-signing a status list needs the revoked and suspended indexes of that list. Asking the
credentials (``{status_alloc: list, status: {$in: [...]}}``) reads every credential on FerretDB
1.24, where only ``_id`` equality uses an index; so does asking this log by a field. Instead each
entry's ``_id`` is ``<list>|<n>`` with ``n`` counting that list's changes from 0: an entry is
written **before** the credential's update (so every change has its entry, even if the process
dies right after) by inserting the first free number — a unique ``_id`` insert, the one write
that is atomic on every store — and the publisher reads the entries it has not applied yet by
probing ``<list>|<next>`` until a miss. What a re-sign reads thus follows the changes since the
previous one, never the number of credentials or of past changes (issue 19).

Numbers have no holes: a writer only moves past ``n`` after finding ``n`` taken. The publisher
keeps the next number to read (and the indexes it has set) on the list document; a hint
document per list (``<list>|next``) saves writers from probing from 0 after a restart.

Entries written before the numbering (random ``_id``, or ``backfill:<credential>`` for changes
made before the log existed) are read once, by the ``alloc`` field, when a list without a
position is first re-signed.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

#: The document recording that credentials changed before the log existed were logged.
_BACKFILLED = "backfilled"


def entry_id(alloc_list_id: str, number: int) -> str:
    """The primary key of a list's ``number``-th change."""
    return f"{alloc_list_id}|{number}"


def _hint_id(alloc_list_id: str) -> str:
    return f"{alloc_list_id}|next"


@dataclass(frozen=True)
class LoggedChange:
    """One numbered entry: which credential was about to change, and when."""

    number: int
    credential_id: str
    at: datetime


class StatusChangeLog:
    """Insert-only numbered entries ``{_id: list|n, alloc, n, credential_id, at}``."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection
        self._next: dict[str, int] = {}  # this process's hint: list -> first number to try

    async def ensure_indexes(self) -> None:
        """Index the one-time read of unnumbered entries by list (MongoDB; FerretDB scans)."""
        await self._collection.create_index("alloc")

    async def record(self, alloc_list_id: str, credential_id: str, at: datetime) -> None:
        """Log that a credential of ``alloc_list_id`` is about to change status."""
        number = self._next.get(alloc_list_id)
        if number is None:
            hint = await self._collection.find_one({"_id": _hint_id(alloc_list_id)})
            number = int(hint["n"]) if hint else 0
        while True:
            try:
                await self._collection.insert_one(
                    {
                        "_id": entry_id(alloc_list_id, number),
                        "alloc": alloc_list_id,
                        "n": number,
                        "credential_id": credential_id,
                        "at": at,
                    }
                )
                break
            except DuplicateKeyError:
                number += 1  # taken by another change (here or in another replica)
        self._next[alloc_list_id] = number + 1
        # Only a hint (lost updates make later writers probe a little further); `$max` keeps it
        # from going back.
        await self._collection.update_one(
            {"_id": _hint_id(alloc_list_id)}, {"$max": {"n": number + 1}}, upsert=True
        )

    async def since(self, alloc_list_id: str, number: int) -> list[LoggedChange]:
        """The list's entries from ``number`` on, in order, read one primary key at a time."""
        found: list[LoggedChange] = []
        while True:
            doc = await self._collection.find_one({"_id": entry_id(alloc_list_id, number)})
            if doc is None:
                return found
            found.append(LoggedChange(number, str(doc["credential_id"]), doc["at"]))
            number += 1

    async def has_since(self, alloc_list_id: str, number: int) -> bool:
        """Whether the list has an entry numbered ``number`` (one primary-key probe)."""
        probe = await self._collection.find_one(
            {"_id": entry_id(alloc_list_id, number)}, {"_id": 1}
        )
        return probe is not None

    async def backfill(self, flagged: AsyncIterator[dict[str, Any]]) -> None:
        """Log the credentials revoked or suspended before the log existed (once per database).

        Without it a list re-signed after the upgrade would show them valid again. Entries get
        ids of their own (``backfill:<credential>``), so two processes starting together write
        each once; a marker document records that it was done.
        """
        if await self._collection.find_one({"_id": _BACKFILLED}) is not None:
            return
        async for doc in flagged:
            if not doc.get("status_alloc"):
                continue
            with contextlib.suppress(DuplicateKeyError):
                await self._collection.insert_one(
                    {
                        "_id": f"backfill:{doc['_id']}",
                        "alloc": str(doc["status_alloc"]),
                        "credential_id": str(doc["_id"]),
                        "at": doc.get("status_changed_at") or datetime.now(UTC),
                    }
                )
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.insert_one({"_id": _BACKFILLED, "at": datetime.now(UTC)})

    async def credentials_of(self, alloc_list_id: str) -> set[str]:
        """Every credential of the list that ever changed status, numbered or not (one read).

        A read by a field: used once per list, for a list that has no position yet (written
        before the numbering, or never re-signed since).
        """
        cursor = self._collection.find({"alloc": alloc_list_id}, {"credential_id": 1})
        return {str(d["credential_id"]) async for d in cursor if "credential_id" in d}

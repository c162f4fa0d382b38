"""A log of status changes (``status_changes``): which credentials of a list ever changed status.

Rebuilding a status list needs the revoked and suspended indexes of that list. Asking the
credentials (``{status_alloc: list, status: {$in: [...]}}``) reads every credential on FerretDB
1.24, where only ``_id`` equality uses an index. This log holds one small document per status
change, written **before** the credential's update (so every change has its entry, even if the
process dies right after), and the publisher reads the current status of the logged credentials
by primary key. Its size follows the number of status changes, not the number of credentials.

An entry whose change was then refused (a concurrent transition) is harmless: the publisher reads
the credential's actual status.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

#: The document recording that credentials changed before the log existed were logged.
_BACKFILLED = "backfilled"


class StatusChangeLog:
    """Insert-only entries ``{_id, alloc, credential_id, at}`` (inserts are atomic everywhere)."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Index the per-list lookup (used by MongoDB; FerretDB reads this small log whole)."""
        await self._collection.create_index("alloc")

    async def record(self, alloc_list_id: str, credential_id: str, at: datetime) -> None:
        """Log that a credential of ``alloc_list_id`` is about to change status."""
        await self._collection.insert_one(
            {
                "_id": uuid.uuid4().hex,
                "alloc": alloc_list_id,
                "credential_id": credential_id,
                "at": at,
            }
        )

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
        """Every credential of the list that ever changed status."""
        cursor = self._collection.find({"alloc": alloc_list_id}, {"credential_id": 1})
        return {str(d["credential_id"]) async for d in cursor}

    async def latest_changes_of(self, alloc_list_id: str) -> dict[str, datetime]:
        """Every credential of the list that ever changed status, with its latest logged time."""
        latest: dict[str, datetime] = {}
        cursor = self._collection.find({"alloc": alloc_list_id}, {"credential_id": 1, "at": 1})
        async for doc in cursor:
            credential_id, at = str(doc["credential_id"]), doc["at"]
            if credential_id not in latest or at > latest[credential_id]:
                latest[credential_id] = at
        return latest

    async def changed_lists(self, since: dict[str, datetime | None]) -> AsyncIterator[str]:
        """Lists with a change logged after their last publication (``since``: list -> time)."""
        latest: dict[str, datetime] = {}
        async for doc in self._collection.find({}, {"alloc": 1, "at": 1}):
            if "alloc" not in doc:
                continue  # the backfill marker
            alloc, at = str(doc["alloc"]), doc["at"]
            if alloc not in latest or at > latest[alloc]:
                latest[alloc] = at
        for alloc, at in latest.items():
            published = since.get(alloc)
            if alloc in since and (published is None or at > published):
                yield alloc

"""The one-time reads behind the insights backfill, and the mark that it was done.

The counters (:mod:`.repository`) are kept as events arrive; credentials issued, accepted, shared
or revoked before they existed are counted once by :class:`~.backfill.InsightsBackfill`. Its
reads are scans of the credentials, consents and shares, once per database (at the first start
of an issuer with insights), never on a request or event path. Each scan is read whole and its
cursor closed before any counting: FerretDB/SQLite cannot checkpoint its write-ahead log while a
cursor is open (docs/mongodb-features.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection

__all__ = ["BACKFILL_MARKS", "BackfillRepository", "ExistingCredential"]

BACKFILL_MARKS = "insights_backfill"
_DONE = "done"

ExistingCredential = tuple[str, str, bool]
"""``(institution_id, credential_id, revoked)`` of a credential stored before the counters."""


class BackfillRepository:
    """Scans of what was stored before the counters, and the once-per-database mark."""

    def __init__(
        self,
        *,
        credentials: AsyncCollection[dict[str, Any]],
        consents: AsyncCollection[dict[str, Any]],
        shares: AsyncCollection[dict[str, Any]],
        marks: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._credentials = credentials
        self._consents = consents
        self._shares = shares
        self._marks = marks

    async def done(self) -> bool:
        """Whether this database's backfill already ran to its end."""
        return await self._marks.find_one({"_id": _DONE}) is not None

    async def record_done(self, at: datetime, credentials: int) -> None:
        """Remember that the backfill ran (with how many credentials it saw)."""
        await self._marks.replace_one(
            {"_id": _DONE}, {"_id": _DONE, "at": at, "credentials": credentials}, upsert=True
        )

    async def credentials(self) -> list[ExistingCredential]:
        """Every stored credential, oldest first (a replacement after what it replaces)."""
        cursor = self._credentials.find(
            {}, {"institution_id": 1, "status": 1, "issued_at": 1, "_id": 1}
        )
        docs = await cursor.to_list(None)
        docs.sort(key=lambda d: (str(d.get("issued_at") or ""), str(d["_id"])))
        return [
            (str(d["institution_id"]), str(d["_id"]), d.get("status") == "revoked")
            for d in docs
            if d.get("institution_id")
        ]

    async def accepted(self) -> list[tuple[str, str]]:
        """``(institution_id, credential_id)`` of every credential its learner accepted."""
        cursor = self._consents.find({"state": "accepted"}, {"institution_id": 1})
        return [(str(d["institution_id"]), str(d["_id"])) for d in await cursor.to_list(None)]

    async def shared(self) -> list[tuple[str, str]]:
        """``(institution_id, credential_id)`` of every share link made (one per link)."""
        cursor = self._shares.find({}, {"institution_id": 1, "credential_id": 1})
        return [
            (str(d["institution_id"]), str(d["credential_id"]))
            for d in await cursor.to_list(None)
            if d.get("institution_id") and d.get("credential_id")
        ]

"""Every MongoDB query on the ``achievements`` collection (one document per version)."""

from __future__ import annotations

import asyncio
import contextvars
import time
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

#: Seconds during which an achievement's version count is trusted without a probe.
_RECHECK_S = 1.0


def version_key(achievement_id: str, version: int) -> str:
    """The ``_id`` of one version: every lookup of a known version is by primary key."""
    return f"{achievement_id}@{version}"


class AchievementRepository:
    """Achievement versions, always filtered by institution (tenant isolation)."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection
        # Achievement id -> versions seen so far (a lower bound: versions are never deleted),
        # and when that was last checked. A version added by this process counts at once; one
        # added by another process within ``_RECHECK_S`` (issuing under load asks many times a
        # second, and a round trip to FerretDB costs ~2 ms of its CPU).
        self._counts: dict[str, int] = {}
        self._checked: dict[str, float] = {}
        # Probes in flight: concurrent askers of one achievement share one (the 16 requests of
        # an issuing group ask at the same moment, each probed on its own before: 2 lookups
        # per request of a series module instead of a handful per group).
        self._probes: dict[str, asyncio.Future[int]] = {}

    async def ensure_indexes(self) -> None:
        """Index lookups by tenant and achievement."""
        await self._collection.create_index(
            [("institution_id", ASCENDING), ("achievement_id", ASCENDING), ("version", ASCENDING)]
        )

    async def insert_version(self, doc: dict[str, Any]) -> bool:
        """Insert a version; False when that version number exists (a concurrent edit)."""
        try:
            await self._collection.insert_one(
                {**doc, "_id": version_key(doc["achievement_id"], int(doc["version"]))}
            )
        except DuplicateKeyError:
            return False
        achievement_id, version = str(doc["achievement_id"]), int(doc["version"])
        self._counts[achievement_id] = max(self._counts.get(achievement_id, 0), version)
        return True

    async def _by_key(self, achievement_id: str, version: int) -> dict[str, Any] | None:
        # Versions are stored under ``<achievement>@<version>``: a primary-key lookup.
        return await self._collection.find_one({"_id": version_key(achievement_id, version)})

    async def count(self, achievement_id: str) -> int:
        """How many versions the achievement has (1, 2, ... are contiguous; none is deleted).

        Probed by primary key from the last count seen, since versions are only ever added:
        one lookup when nothing changed, instead of a scan of every institution's versions.
        """
        known = self._counts.get(achievement_id, 0)
        checked = self._checked.get(achievement_id)
        if known and checked is not None and time.monotonic() - checked < _RECHECK_S:
            return known
        probe = self._probes.get(achievement_id)
        if probe is None:
            # A context of its own: the first asker's request deadline is not the others'.
            probe = asyncio.get_running_loop().create_task(
                self._probe(achievement_id, known), context=contextvars.Context()
            )
            self._probes[achievement_id] = probe
            probe.add_done_callback(lambda _: self._probes.pop(achievement_id, None))
        # Shielded: one asker giving up (a cancelled request) does not fail the others.
        return await asyncio.shield(probe)

    async def _probe(self, achievement_id: str, known: int) -> int:
        while await self._collection.find_one(
            {"_id": version_key(achievement_id, known + 1)}, {"_id": 1}
        ):
            known += 1
        if known:
            known = max(self._counts.get(achievement_id, 0), known)
            self._counts[achievement_id] = known
            self._checked[achievement_id] = time.monotonic()
        return known

    async def latest(self, institution_id: str, achievement_id: str) -> dict[str, Any] | None:
        """Return the newest version of an achievement of this institution."""
        count = await self.count(achievement_id)
        return await self.version(institution_id, achievement_id, count) if count else None

    async def published(
        self, institution_id: str, achievement_id: str, version: int | None = None
    ) -> dict[str, Any] | None:
        """Return a published version (the newest one unless ``version`` is given)."""
        if version is not None:
            doc = await self.version(institution_id, achievement_id, version)
            return doc if doc is not None and doc.get("state") == "published" else None
        for number in range(await self.count(achievement_id), 0, -1):
            doc = await self.version(institution_id, achievement_id, number)
            if doc is None:
                return None  # another institution's achievement
            if doc.get("state") == "published":
                return doc
        return None

    async def version(
        self, institution_id: str, achievement_id: str, version: int
    ) -> dict[str, Any] | None:
        """Return one version (another institution's is simply not found)."""
        doc = await self._by_key(achievement_id, version)
        return doc if doc is not None and doc.get("institution_id") == institution_id else None

    async def public_version(self, achievement_id: str, version: int) -> dict[str, Any] | None:
        """A published version whatever its institution (published definitions are public)."""
        doc = await self._by_key(achievement_id, version)
        return doc if doc is not None and doc.get("state") == "published" else None

    async def public_latest(self, achievement_id: str) -> dict[str, Any] | None:
        """The newest published version whatever its institution (what an endorser endorses)."""
        for number in range(await self.count(achievement_id), 0, -1):
            doc = await self._by_key(achievement_id, number)
            if doc is not None and doc.get("state") == "published":
                return doc
        return None

    async def versions(self, institution_id: str, achievement_id: str) -> list[dict[str, Any]]:
        """Return every version, oldest first."""
        out = []
        for number in range(1, await self.count(achievement_id) + 1):
            doc = await self.version(institution_id, achievement_id, number)
            if doc is None:
                return []
            out.append(doc)
        return out

    async def mark_published(
        self, institution_id: str, achievement_id: str, version: int, at: Any
    ) -> bool:
        """Publish a draft version."""
        result = await self._collection.update_one(
            {
                "_id": version_key(achievement_id, version),
                "institution_id": institution_id,
                "state": "draft",
            },
            {"$set": {"state": "published", "published_at": at}},
        )
        return result.modified_count == 1

    async def page(
        self, institution_id: str, *, skip: int, limit: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Return one page of the institution's achievements (their version 1 documents)."""
        query = {"institution_id": institution_id, "version": 1}
        total = await self._collection.count_documents(query)
        cursor = self._collection.find(
            query, sort=[("created_at", ASCENDING)], skip=skip, limit=limit
        )
        return [d async for d in cursor], total

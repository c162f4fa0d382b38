"""Every MongoDB query on the ``series`` collection; every read names the institution.

"Which series have this achievement among their components?" is asked on every issue (the
overall-credential award and the progressive prerequisites). A filter on
``components.achievement_id`` reads every series document on FerretDB 1.24, so the answer is kept
in ``series_components``: for each (institution, component) the series containing it, one document
per series in numbered slots ``<institution>|<achievement>#0``, ``#1``, ... Each slot is claimed
by a unique ``_id`` insert (atomic on every MongoDB-protocol server, unlike an update of a shared
list), and a reader probes the slots by primary key until the first free one: one lookup for an
achievement in no series. Slots are written before the series itself, so a series is never
missing from them; a slot naming a series that was never stored (its creator died) is skipped.
A component's answer, and the series documents it names (a series is never changed once stored),
are remembered for a second (one issue asks twice, and concurrent issues of one module ask alike).

``series_awards`` (:class:`PendingAwards`) holds the award steps still to run: see
``series/service.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from datetime import UTC, datetime
from typing import Any

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from sceau_issuer.series.schemas import SeriesStructure
from sceau_shared.cache import TtlCache
from sceau_shared.events import utcnow

#: Slots probed per (institution, component) at most: series sharing one module are few.
_MAX_SLOTS = 1000
#: Seconds a component's series are remembered (see ``SeriesRepository``).
_REMEMBER_S = 1.0


def _slot_id(institution_id: str, achievement_id: str, n: int) -> str:
    return f"{institution_id}|{achievement_id}#{n}"


class SeriesRepository:
    """Series definitions (small: a few per institution) and their component index."""

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        components: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._collection = collection
        self._components = components
        # One issue asks twice within milliseconds (prerequisites, then the award rule): the
        # answer is kept briefly. A series created here is seen at once; one created by another
        # process within ``_REMEMBER_S``.
        self._recent: TtlCache[tuple[str, str], tuple[str, ...]] = TtlCache(
            ttl_s=_REMEMBER_S, max_entries=10_000
        )
        # A series is never changed once stored: the documents those answers name are kept as
        # briefly (every request of a series module read its series again before).
        self._docs: TtlCache[tuple[str, str], dict[str, Any]] = TtlCache(
            ttl_s=_REMEMBER_S, max_entries=10_000
        )
        # When the answer expires, the issues then in flight (16 at 16 clients) all miss at
        # once: they share the one probe already under way instead of each sending their own.
        self._probing: dict[tuple[str, str], asyncio.Task[tuple[str, ...]]] = {}

    async def ensure_indexes(self) -> None:
        """Index the listing by institution, and index series stored before the slots existed."""
        await self._collection.create_index([("institution_id", ASCENDING)])
        # Start-up only, on a small collection: series from before ``series_components``.
        async for doc in self._collection.find({}, {"institution_id": 1, "components": 1}):
            for achievement_id in _component_ids(doc):
                institution_id = str(doc["institution_id"])
                if doc["_id"] not in await self._series_ids(institution_id, achievement_id):
                    await self._claim_slot(institution_id, achievement_id, str(doc["_id"]))

    async def insert(self, doc: dict[str, Any]) -> None:
        """Store a new series (its component slots first)."""
        for achievement_id in _component_ids(doc):
            await self._claim_slot(str(doc["institution_id"]), achievement_id, str(doc["_id"]))
        await self._collection.insert_one(doc)

    async def get(self, institution_id: str, series_id: str) -> dict[str, Any] | None:
        """One series of this institution (another tenant's is simply not found)."""
        return await self._collection.find_one({"_id": series_id, "institution_id": institution_id})

    async def all(self, institution_id: str) -> list[dict[str, Any]]:
        """The institution's series (listing)."""
        return [d async for d in self._collection.find({"institution_id": institution_id})]

    async def with_component(
        self, institution_id: str, achievement_id: str, *, progressive_only: bool = False
    ) -> list[dict[str, Any]]:
        """The series that have ``achievement_id`` among their components (by primary key)."""
        out = []
        for series_id in await self._series_ids(institution_id, achievement_id):
            doc = self._docs.get((institution_id, series_id))
            if doc is None:
                doc = await self.get(institution_id, series_id)
                if doc is None:
                    continue
                self._docs.put((institution_id, series_id), doc)
            if progressive_only and doc.get("structure") != SeriesStructure.PROGRESSIVE.value:
                continue
            out.append(doc)
        return out

    async def _series_ids(self, institution_id: str, achievement_id: str) -> tuple[str, ...]:
        key = (institution_id, achievement_id)
        recent = self._recent.get(key)
        if recent is not None:
            return recent
        probing = self._probing.get(key)
        if probing is None:
            # Its own task and context, as AchievementRepository.count's probes: the first
            # asker's cancellation or deadline is not the others'.
            probing = asyncio.get_running_loop().create_task(
                self._probe(institution_id, achievement_id), context=contextvars.Context()
            )
            self._probing[key] = probing
            probing.add_done_callback(lambda done: self._drop_probe(key, done))
            return await asyncio.shield(probing)
        try:
            return await asyncio.shield(probing)
        except Exception:  # noqa: BLE001 - the shared probe's failure is not this caller's
            return await self._probe(institution_id, achievement_id)

    def _drop_probe(self, key: tuple[str, str], done: asyncio.Task[tuple[str, ...]]) -> None:
        if self._probing.get(key) is done:
            del self._probing[key]

    async def _probe(self, institution_id: str, achievement_id: str) -> tuple[str, ...]:
        """The component's series ids read from its slots, by primary key, and remembered."""
        ids: list[str] = []
        for n in range(_MAX_SLOTS):
            key = _slot_id(institution_id, achievement_id, n)
            slot = await self._components.find_one({"_id": key})
            if slot is None:
                break
            if slot["series_id"] not in ids:
                ids.append(str(slot["series_id"]))
        self._recent.put((institution_id, achievement_id), tuple(ids))
        return tuple(ids)

    async def _claim_slot(self, institution_id: str, achievement_id: str, series_id: str) -> None:
        self._recent.invalidate((institution_id, achievement_id))
        self._probing.pop((institution_id, achievement_id), None)  # later askers read anew
        for n in range(_MAX_SLOTS):
            try:
                await self._components.insert_one(
                    {"_id": _slot_id(institution_id, achievement_id, n), "series_id": series_id}
                )
            except DuplicateKeyError:
                continue
            return
        raise RuntimeError(f"achievement {achievement_id!r} is a component of too many series")


def _component_ids(doc: dict[str, Any]) -> list[str]:
    return list(dict.fromkeys(str(c["achievement_id"]) for c in doc.get("components", [])))


def award_id(institution_id: str, achievement_id: str, email_norm: str) -> str:
    """The ``_id`` of a pending award: one per institution, component and learner."""
    return f"{institution_id}|{achievement_id}|{email_norm}"


class PendingAwards:
    """Award steps still to run (``series_awards``): written before the step, removed after it.

    Only components of some series get a marker, and a marker lives for the length of one award
    step unless that step fails, so the collection stays small and the sweep reads it whole.
    """

    def __init__(self, collection: AsyncCollection[dict[str, Any]]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Nothing beyond ``_id`` (the sweep reads the small collection whole)."""

    async def add(self, steps: list[tuple[str, str, list[tuple[dict[str, Any], str]]]]) -> None:
        """Record that these award steps are to run, in one insert.

        ``steps``: per (institution, component), the learners and their normalised addresses.
        A step already pending is kept as it is.
        """
        docs = [
            {
                "_id": award_id(institution_id, achievement_id, email_norm),
                "institution_id": institution_id,
                "achievement_id": achievement_id,
                "recipient": recipient,
                "at": utcnow(),
            }
            for institution_id, achievement_id, recipients in steps
            for recipient, email_norm in recipients
        ]
        if docs:
            with contextlib.suppress(BulkWriteError):  # already pending: the older one stays
                await self._collection.insert_many(docs, ordered=False)

    async def remove(self, ids: list[str]) -> None:
        """The award step ran for these markers.

        One command, each statement by ``_id`` (``$in`` scans on FerretDB).
        """
        if not ids:
            return
        await self._collection.database.command(
            {
                "delete": self._collection.name,
                "deletes": [{"q": {"_id": marker}, "limit": 1} for marker in ids],
                "ordered": False,
            }
        )

    async def due(self, before: datetime) -> list[dict[str, Any]]:
        """Markers written before ``before`` (their step failed, or its process died)."""
        return [d async for d in self._collection.find({}) if _aware(d["at"]) < before]


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

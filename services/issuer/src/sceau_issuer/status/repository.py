"""Every MongoDB query on the ``status_lists`` collection (one document per allocated list).

A list document carries both purposes' public ids, its publication version and the outbox of its
``StatusListPublishedV1`` events; the status publisher reads and updates it only through here.
It also names the key that signed its last publication (``signed_with``) and counts the re-signs
asked for by key changes (``resign``): a publication is stored only if no key change asked for a
new signature while it was being built (issue 18, item 1).
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_issuer.status.allocation_repository import Allocation
from sceau_issuer.status.status_lists import (
    BITSTRING,
    STATUS_LIST_2021,
    StatusSlot,
    family,
    public_list_id,
)
from sceau_shared.events import Event, StatusPurpose, utcnow
from sceau_shared.outbox import outbox_entry

#: Lists probed per family at most when a key change asks for re-signs (131,072 credentials each).
_MAX_LISTS = 10_000


@dataclass(frozen=True)
class ListPosition:
    """What the publisher's safety sweep reads of every list (one small projection each)."""

    alloc_list_id: str
    log_next: int | None
    """First change-log number not applied; None for a list written before the numbered log."""
    institution_id: str
    did: str
    signed_with: str | None
    """Key id of the last publication; None before the first one (or before it was recorded)."""


class StatusListRepository:
    """One document per allocated list (both purposes), carrying its publication outbox."""

    def __init__(self, collection: AsyncCollection[dict[str, Any]], *, registry_url: str) -> None:
        self._collection = collection
        self._registry_url = registry_url.rstrip("/")
        self._known: set[str] = set()

    def url(self, list_id: str) -> str:
        """The public URL of a list at the registry (contract: ``/v1/status-lists/{id}``)."""
        return f"{self._registry_url}/v1/status-lists/{list_id}"

    async def ensure_indexes(self) -> None:
        """Index the publisher's lookup of lists waiting for their first publication."""
        await self._collection.create_index("needs_publish")

    def slot(self, allocation: Allocation) -> StatusSlot:
        """Describe an allocation as list ids and URLs."""
        ids = {p.value: public_list_id(allocation.list_id, p) for p in StatusPurpose}
        return StatusSlot(
            alloc_list_id=allocation.list_id,
            index=allocation.index,
            list_ids=ids,
            list_urls={p: self.url(i) for p, i in ids.items()},
        )

    async def ensure(
        self, allocation: Allocation, *, institution_id: str, did: str, fmt: str
    ) -> bool:
        """Create the list's document once, flagged for its first (all-clear) publication.

        Verifiers must find a list before any credential pointing at it can be checked, so a new
        list is published as soon as its first credential is issued. Returns True only for the
        call that created the document (the caller then wakes the publisher).
        """
        if allocation.list_id in self._known:
            return False
        created = False
        with contextlib.suppress(DuplicateKeyError):
            await self._collection.insert_one(
                {
                    "_id": allocation.list_id,
                    "institution_id": institution_id,
                    "did": did,
                    "format": fmt,
                    "size": allocation.size,
                    "list_ids": {
                        p.value: public_list_id(allocation.list_id, p) for p in StatusPurpose
                    },
                    "version": 0,
                    "needs_publish": True,
                    # A new list has no change logged yet: its re-signs read the numbered change
                    # log from 0 (status/changes_repository.py) and keep the set indexes here.
                    "log_next": 0,
                    "flags": {},
                    "created_at": utcnow(),
                }
            )
            created = True
        self._known.add(allocation.list_id)
        return created

    async def awaiting_first_publication(self) -> AsyncIterator[str]:
        """Ids of lists created but never published yet."""
        async for doc in self._collection.find({"needs_publish": True}, {"_id": 1}):
            yield str(doc["_id"])

    async def positions(self) -> AsyncIterator[ListPosition]:
        """Every list with its change-log position and signing key (recovery sweep).

        The collection holds one small document per 131,072 credentials: read whole.
        """
        projection = {"_id": 1, "log_next": 1, "institution_id": 1, "did": 1, "signed_with": 1}
        async for doc in self._collection.find({}, projection):
            position = doc.get("log_next")
            signed_with = doc.get("signed_with")
            yield ListPosition(
                alloc_list_id=str(doc["_id"]),
                log_next=None if position is None else int(position),
                institution_id=str(doc.get("institution_id", "")),
                did=str(doc.get("did", "")),
                signed_with=None if signed_with is None else str(signed_with),
            )

    async def lists_of(self, institution_id: str, dids: Iterable[str]) -> list[str]:
        """Every list of an institution's DIDs, found by primary key (no scan).

        A family's lists are numbered ``<family>/0``, ``/1``, ... and each is stored when its
        first credential is issued, so probing stops at the first number not stored.
        """
        found: list[str] = []
        for did in dict.fromkeys(dids):
            for fmt in (BITSTRING, STATUS_LIST_2021):
                prefix = family(institution_id, did, fmt)
                for seq in range(_MAX_LISTS):
                    list_id = f"{prefix}/{seq}"
                    if await self._collection.find_one({"_id": list_id}, {"_id": 1}) is None:
                        break
                    found.append(list_id)
        return found

    async def request_resign(self, alloc_list_ids: Iterable[str]) -> int:
        """Ask for these lists to be signed again (by whichever key is current when they are).

        Sets the flag the publisher reads every round and counts the request in ``resign``, so a
        publication built from the keys as they were before cannot clear it (its guard fails and
        it is built again). Returns how many lists were asked for.
        """
        asked = 0
        for list_id in alloc_list_ids:
            result = await self._collection.update_one(
                {"_id": list_id}, {"$set": {"needs_publish": True}, "$inc": {"resign": 1}}
            )
            asked += result.matched_count
        return asked

    async def get(self, alloc_list_id: str) -> dict[str, Any] | None:
        """One list document, without its outbox."""
        return await self._collection.find_one({"_id": alloc_list_id}, {"outbox": 0})

    async def record_publication(
        self,
        alloc_list_id: str,
        *,
        previous_version: int,
        version: int,
        published_at: datetime,
        events: Sequence[Event],
        flags: dict[str, list[int]],
        log_next: int,
        signed_with: str,
        resign: int | None,
    ) -> bool:
        """Store a new publication with its events unless another one got there first.

        ``flags`` (the indexes set per purpose) and ``log_next`` (the first change not applied)
        let the next re-sign start from here instead of from every change ever logged.
        ``resign`` is the re-sign count read with the list: a key change counted meanwhile
        refuses this publication (it may carry a signature of the key just revoked).
        """
        result = await self._collection.update_one(
            # ``None`` matches a list that never had a re-sign asked (no field).
            {"_id": alloc_list_id, "version": previous_version, "resign": resign},
            {
                "$set": {
                    "version": version,
                    "needs_publish": False,
                    "published_at": published_at,
                    "flags": flags,
                    "log_next": log_next,
                    "signed_with": signed_with,
                    # The latest publication only: it carries every purpose's whole list, and
                    # the registry and verifiers keep the newest version (an older one still
                    # unpublished when this replaces it is superseded, never needed). Kept as
                    # history, the outbox grew by a signed list per re-sign, and every read of
                    # the list document (each re-sign, each poll of the small relay) parsed it
                    # all on FerretDB (issue 19).
                    "outbox": [outbox_entry(e) for e in events],
                },
            },
        )
        return result.modified_count == 1

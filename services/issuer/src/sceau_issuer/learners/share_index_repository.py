"""Share lookups by primary key: by public id, a credential's shares, opening counts (issue 19).

A share is stored under the hash of its token (``shares._id``): the verifier's page asks
for it by token. Every other lookup used a field — by public id (each opening the verifier
reports), by credential (the learner's page lists its shares), the receipts grouped by share
(the opening counts on that page) — and on FerretDB 1.24 only an ``_id`` equality uses an
index, so each of them read every share or every receipt. Here each is kept under a derived
``_id`` instead:

- ``share_refs``: ``id|<share_id>`` → the share's key; ``cred|<institution>|<credential>|<n>``
  → the credential's n-th share (numbered slots: taking the first free one is a unique insert,
  atomic on every server, so two shares made at once never overwrite each other);
- ``share_openings``: ``<share_id>`` → the number of openings and the last one, incremented
  after the opening's receipt is stored (the receipt, keyed by the event id, is the marker: a
  redelivered event counts nothing; a crash between the two loses one count, never adds one).

The references are written *before* the share, so a share is never stored without them (a
reference to a share that was never written is skipped by the readers).

A database with shares from before this index is indexed once, in the background
(:meth:`ShareIndex.build`, the issuer's ``share-index`` background loop); until then
the readers use the former field queries.
"""

from __future__ import annotations

import contextlib
import logging
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

__all__ = [
    "MAX_SHARES_PER_CREDENTIAL",
    "OPENINGS",
    "REFS",
    "ShareIndex",
    "TooManyShares",
]

_log = logging.getLogger(__name__)

REFS = "share_refs"
OPENINGS = "share_openings"
#: Share links one credential may have (the learner's page lists them all).
MAX_SHARES_PER_CREDENTIAL = 100
_BUILT = "built"

Document = dict[str, Any]


def id_ref(share_id: str) -> str:
    """The ``_id`` of the reference from a share's public id to its key."""
    return f"id|{share_id}"


def slot_ref(institution_id: str, credential_id: str, n: int) -> str:
    """The ``_id`` of a credential's n-th share reference."""
    return f"cred|{institution_id}|{credential_id}|{n}"


class TooManyShares(Exception):
    """The credential already has :data:`MAX_SHARES_PER_CREDENTIAL` share links."""


class ShareIndex:
    """References and opening counts of shares, every read and write by ``_id``."""

    def __init__(
        self,
        shares: AsyncCollection[Document],
        refs: AsyncCollection[Document],
        openings: AsyncCollection[Document],
        receipts: AsyncCollection[Document],
    ) -> None:
        self._shares = shares
        self._refs = refs
        self._openings = openings
        self._receipts = receipts
        self._built = False  # once seen built, it stays built

    async def built(self) -> bool:
        """Whether every share has its references (a fresh database is built from the start)."""
        if not self._built:
            self._built = await self._refs.find_one({"_id": _BUILT}) is not None
        return self._built

    async def ensure_built_if_empty(self) -> None:
        """Mark a database without shares as built (its shares will all be indexed as made)."""
        if await self.built():
            return
        if await self._shares.find_one({}, {"_id": 1}) is None:
            await self._mark_built()

    async def _mark_built(self) -> None:
        with contextlib.suppress(DuplicateKeyError):
            await self._refs.insert_one({"_id": _BUILT})
        self._built = True

    # --- writes ---------------------------------------------------------------------------------

    async def add(self, share: Document) -> None:
        """Reference a share about to be stored (idempotent: a share already referenced is kept).

        Raises :class:`TooManyShares` when every slot of its credential is taken.
        """
        share_id, key = str(share["share_id"]), str(share["_id"])
        with contextlib.suppress(DuplicateKeyError):
            await self._refs.insert_one({"_id": id_ref(share_id), "key": key})
        institution_id, credential_id = str(share["institution_id"]), str(share["credential_id"])
        for n in range(MAX_SHARES_PER_CREDENTIAL):
            slot = slot_ref(institution_id, credential_id, n)
            found = await self._refs.find_one({"_id": slot})
            if found is not None:
                if found.get("share_id") == share_id:
                    return  # referenced already (a retried write, or the build)
                continue
            try:
                await self._refs.insert_one({"_id": slot, "share_id": share_id, "key": key})
            except DuplicateKeyError:
                continue  # taken meanwhile by another share of the credential: the next one
            return
        raise TooManyShares(credential_id)

    async def opened(self, share_id: str, at: datetime) -> None:
        """Count one opening (after its receipt is stored)."""
        await self._openings.update_one(
            {"_id": share_id}, {"$inc": {"n": 1}, "$max": {"last": at}}, upsert=True
        )

    # --- reads ----------------------------------------------------------------------------------

    async def key_of(self, share_id: str) -> str | None:
        """The key (token hash) of a share by its public id."""
        ref = await self._refs.find_one({"_id": id_ref(share_id)})
        return str(ref["key"]) if ref else None

    async def keys_of(self, institution_id: str, credential_id: str) -> list[str]:
        """The keys of a credential's shares, in slot order (at most one read past the last)."""
        keys: list[str] = []
        seen: set[str] = set()
        for n in range(MAX_SHARES_PER_CREDENTIAL):
            ref = await self._refs.find_one({"_id": slot_ref(institution_id, credential_id, n)})
            if ref is None:
                break
            if ref["share_id"] not in seen:
                seen.add(str(ref["share_id"]))
                keys.append(str(ref["key"]))
        return keys

    async def openings(self, share_ids: list[str]) -> dict[str, tuple[int, datetime | None]]:
        """Open count and last opening of each share (shares never opened are left out)."""
        out: dict[str, tuple[int, datetime | None]] = {}
        for share_id in share_ids:
            doc = await self._openings.find_one({"_id": share_id})
            if doc is None:
                continue
            count = int(doc.get("n", 0)) + int(doc.get("before", 0))
            if count:
                out[share_id] = (count, doc.get("last"))
        return out

    # --- the one-time build ---------------------------------------------------------------------

    async def build(self) -> int:
        """Index the shares and count the receipts stored before this index; return shares read.

        Idempotent and safe beside live traffic: references are inserted as :meth:`add` does;
        receipts written from now on carry ``counted`` (their opening is counted live), so the
        build counts only the others, into ``before`` with ``$set`` (a re-run writes the same).
        """
        if await self.built():
            return 0
        read = 0
        async for share in self._shares.find(
            {}, {"share_id": 1, "institution_id": 1, "credential_id": 1}
        ):
            if share.get("share_id"):
                await self.add(share)
                read += 1
        counts: dict[str, tuple[int, datetime | None]] = {}
        async for receipt in self._receipts.find(
            {"counted": {"$ne": True}}, {"share_id": 1, "opened_at": 1}
        ):
            share_id = str(receipt.get("share_id"))
            count, last = counts.get(share_id, (0, None))
            at = receipt.get("opened_at")
            counts[share_id] = (count + 1, at if last is None or (at and at > last) else last)
        for share_id, (count, last) in counts.items():
            update: Document = {"$set": {"before": count}}
            if last is not None:
                update["$max"] = {"last": last}
            await self._openings.update_one({"_id": share_id}, update, upsert=True)
        await self._mark_built()
        if read:
            receipts = sum(count for count, _ in counts.values())
            _log.info("share index: %d shares and %d receipts indexed", read, receipts)
        return read

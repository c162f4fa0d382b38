"""Status-list index allocation: random-looking, collision-free, safe under concurrent issuers.

It lives in the issuer (not the credential engine) because it is storage: the engine stays free of
MongoDB and keeps only the pure parts it uses (``KeyedPermutation``, the bitstring sizes).

Two collections:

* **lists** — one document per status list::

      {_id: "<family>/<seq>", family, seq, size, next, full, key, created_at}

  ``family`` groups the lists that serve one issuer (for example ``"<tenant>:<issuer DID>"``; the
  caller decides). ``next`` is a *hint* of the next free counter value; ``key`` is the list's
  random permutation key.
* **claims** — one document per allocated slot, ``{_id: "<family>/<seq>#<counter>", ...}``.

Why claims instead of a bare ``$inc`` counter: on the development server (FerretDB 1.24, SQLite
backend) ``find_one_and_update``/``update_one`` with ``$inc`` are **not atomic** across
connections — 200 concurrent increments from four clients returned 25 distinct values and left
the counter at 19 (measured; see tests/integration/issuer/test_issuer_allocation_mongo.py). A unique
``_id`` *is* enforced atomically by every MongoDB-protocol server (it is SQLite's primary key
there), so a counter value belongs to whoever inserts its claim first; a loser gets
``DuplicateKeyError`` and tries the next value. Uniqueness therefore never depends on the counter
being updated atomically — only speed does, and ``next`` is advanced with the monotonic ``$max``.

The index handed out is ``KeyedPermutation(size, key)(counter)``: a bijection keyed by the list's
secret, so distinct counters give distinct indexes and the issuance order is not visible in the
list (Bitstring Status List §5.1, "indexes SHOULD be assigned randomly").

When every counter of a list is claimed the list is marked ``full`` and list ``seq + 1`` is
created; its ``_id`` is deterministic, so concurrent creators collide on it and all but one just
retry. One allocation gives one index in one list; a credential with both a revocation and a
suspension entry uses the same ``(list, index)`` in the list's revocation and suspension
bitstrings.

``allocate_many`` is the batch form: one ``insert_many`` (unordered) of the very same claim
documents for a whole run of counters instead of one ``insert_one`` per counter — on FerretDB
each single allocation costs three round trips, which would dominate a 10,000-recipient batch.
Each claim is still its own unique-``_id`` insert, so the atomicity argument above is unchanged:
the counters a concurrent issuer claimed first come back as duplicate-key write errors and are
skipped, and the run continues in the next round (or the next list).
"""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from pydantic import BaseModel, ConfigDict
from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from sceau_credentials.status.bitstring import MIN_ENTRIES
from sceau_credentials.status.errors import StatusListFullError
from sceau_credentials.status.permutation import KeyedPermutation

__all__ = ["Allocation", "BlockAllocator", "StatusIndexAllocator"]

_KEY_BYTES: Final = 32
#: Counter values tried after one read of a list before reading it again.
_PROBE_WINDOW: Final = 64
#: Reads of the current list before giving up (only under pathological contention).
_MAX_ROUNDS: Final = 64
#: The server's error code for a unique-index violation (a claim someone else inserted first).
_DUPLICATE_KEY: Final = 11000


class Allocation(BaseModel):
    """An allocated status slot.

    Attributes:
        list_id: the list document's ``_id`` (``<family>/<seq>``); the issuer maps it to the
            status list credential URL(s).
        family: the family the list belongs to.
        seq: the list's sequence number within its family (0, 1, 2, ...).
        index: the ``statusListIndex`` to put in the credential.
        size: the list's number of entries.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    list_id: str
    family: str
    seq: int
    index: int
    size: int


class StatusIndexAllocator:
    """Allocates indexes from MongoDB-backed status lists (one collection, many families).

    Args:
        collection: the collection holding one document per list.
        claims: the collection recording allocated slots; defaults to ``<collection>_claims``
            in the same database.
        size: entries per new list; at least the 131,072-entry privacy minimum.
    """

    def __init__(
        self,
        collection: AsyncCollection[dict[str, Any]],
        *,
        claims: AsyncCollection[dict[str, Any]] | None = None,
        size: int = MIN_ENTRIES,
    ) -> None:
        if size < MIN_ENTRIES:
            raise ValueError(
                f"status lists must hold at least {MIN_ENTRIES} entries (group privacy)"
            )
        self._lists = collection
        self._claims = (
            claims if claims is not None else collection.database[f"{collection.name}_claims"]
        )
        self._size = size
        # Permutations are pure functions of (size, key); caching them per list is only a speed-up.
        self._permutations: dict[str, KeyedPermutation] = {}
        # Family -> sequence number of its current list as last seen (where probing starts).
        self._current_seq: dict[str, int] = {}

    async def ensure_indexes(self) -> None:
        """Create the index the list lookup uses (idempotent). Claims only need ``_id``."""
        await self._lists.create_index(
            [("family", ASCENDING), ("full", ASCENDING), ("seq", ASCENDING)],
            name="family_full_seq",
        )

    async def allocate(self, family: str, *, reference: str | None = None) -> Allocation:
        """Allocate one index in the family's current list, opening a new list when full.

        Args:
            family: which lists to allocate from.
            reference: optional note stored with the claim (e.g. the credential id), for audits.

        Raises:
            StatusListFullError: allocation kept losing races; only under pathological
                contention.
        """
        _check_family(family)
        for _ in range(_MAX_ROUNDS):
            doc = await self._current_list(family)
            if doc is None:
                await self._open_next_list(family)
                continue
            list_id, size = str(doc["_id"]), int(doc["size"])
            counter = await self._claim(list_id, int(doc["next"]), size, reference)
            if counter is None:
                continue  # window exhausted by concurrent issuers; read the list again
            if counter >= size:
                await self._lists.update_one({"_id": list_id}, {"$set": {"full": True}})
                continue
            return self._allocation(doc, family, counter)
        raise StatusListFullError(
            f"could not allocate a status index for {family!r} after {_MAX_ROUNDS} attempts"
        )

    async def allocate_many(
        self, family: str, count: int, *, reference: str | None = None
    ) -> list[Allocation]:
        """Allocate ``count`` indexes at once, spilling into the next list when one fills up.

        Claims a run of counters per list with one unordered ``insert_many`` rather than
        ``count`` single inserts, so a large batch costs a few round trips per list instead of
        three per credential. The claim documents are exactly those :meth:`allocate` writes, so
        both methods can be used on the same lists concurrently, by any number of issuers.

        Args:
            family: which lists to allocate from.
            count: how many indexes are wanted; ``0`` returns an empty list.
            reference: optional note stored with every claim of the run (e.g. a batch id).

        Returns:
            ``count`` distinct allocations, in counter order within each list; when a list fills
            up part-way the rest come from the family's next list.

        Raises:
            ValueError: the family is malformed or ``count`` is negative.
            StatusListFullError: allocation kept losing races; only under pathological
                contention.
        """
        _check_family(family)
        if count < 0:
            raise ValueError("cannot allocate a negative number of status indexes")
        out: list[Allocation] = []
        for _ in range(_MAX_ROUNDS):
            missing = count - len(out)
            if missing <= 0:
                return out
            doc = await self._current_list(family)
            if doc is None:
                await self._open_next_list(family)
                continue
            list_id, size, start = str(doc["_id"]), int(doc["size"]), int(doc["next"])
            end = min(start + missing, size)
            won = await self._claim_run(list_id, start, end, reference)
            if end >= size:
                await self._lists.update_one({"_id": list_id}, {"$set": {"full": True}})
            out.extend(self._allocation(doc, family, counter) for counter in won)
        raise StatusListFullError(f"could not allocate {count} indexes for {family!r}")

    async def _current_list(self, family: str) -> dict[str, Any] | None:
        """The family's oldest list that still has free counters, if any.

        Lists are probed by primary key (``<family>/<seq>``) from the last one this process saw
        current: lists are numbered without gaps and a full one never empties, so the first list
        that is missing or not full is the answer, and a scan is never needed.
        """
        seq = self._current_seq.get(family, 0)
        while True:
            doc = await self._lists.find_one({"_id": f"{family}/{seq}"})
            if doc is None:
                self._current_seq[family] = seq
                return None
            if not doc.get("full", False):
                self._current_seq[family] = seq
                return doc
            seq += 1

    def _allocation(self, doc: Mapping[str, Any], family: str, counter: int) -> Allocation:
        """The slot a claimed counter of list ``doc`` stands for (its permuted index)."""
        list_id, size = str(doc["_id"]), int(doc["size"])
        permutation = self._permutation(list_id, size, bytes(doc["key"]))
        return Allocation(
            list_id=list_id,
            family=family,
            seq=int(doc["seq"]),
            index=permutation(counter),
            size=size,
        )

    async def _claim_run(
        self, list_id: str, start: int, end: int, reference: str | None
    ) -> list[int]:
        """Claim counters ``start..end-1`` in one write; return those nobody had claimed first."""
        if start >= end:
            return []
        now = datetime.now(UTC)
        # claims[i] is counter start + i: a write error's index names the counter it lost.
        claims = [_claim_document(list_id, c, reference, now) for c in range(start, end)]
        won = set(range(start, end))
        try:
            await self._claims.insert_many(claims, ordered=False)
        except BulkWriteError as exc:
            for error in exc.details.get("writeErrors", []):
                if error.get("code") != _DUPLICATE_KEY:
                    raise
                won.discard(start + int(error["index"]))
        await self._lists.update_one({"_id": list_id}, {"$max": {"next": end}})
        return sorted(won)

    async def _claim(
        self, list_id: str, start: int, size: int, reference: str | None
    ) -> int | None:
        """Claim the first free counter from ``start``; ``size`` means "the list is full"."""
        for counter in range(start, min(start + _PROBE_WINDOW, size)):
            try:
                await self._claims.insert_one(
                    _claim_document(list_id, counter, reference, datetime.now(UTC))
                )
            except DuplicateKeyError:
                continue
            await self._lists.update_one({"_id": list_id}, {"$max": {"next": counter + 1}})
            return counter
        if start + _PROBE_WINDOW >= size:
            return size
        await self._lists.update_one({"_id": list_id}, {"$max": {"next": start + _PROBE_WINDOW}})
        return None

    async def _open_next_list(self, family: str) -> None:
        # ``_current_list`` just found no list at this sequence number (every earlier one full).
        seq = self._current_seq.get(family, 0)
        # A concurrent allocator may create it first (same _id); the retry then uses theirs.
        with contextlib.suppress(DuplicateKeyError):
            await self._lists.insert_one(
                {
                    "_id": f"{family}/{seq}",
                    "family": family,
                    "seq": seq,
                    "size": self._size,
                    "next": 0,
                    "full": False,
                    "key": secrets.token_bytes(_KEY_BYTES),
                    "created_at": datetime.now(UTC),
                }
            )

    def _permutation(self, list_id: str, size: int, key: bytes) -> KeyedPermutation:
        permutation = self._permutations.get(list_id)
        if permutation is None:
            permutation = KeyedPermutation(size, key)
            self._permutations[list_id] = permutation
        return permutation

    async def lists(self, family: str) -> list[dict[str, Any]]:
        """Return the family's lists (without their keys), oldest first, for publishing."""
        cursor = self._lists.find(
            {"family": family}, projection={"key": 0}, sort=[("seq", ASCENDING)]
        )
        return [doc async for doc in cursor]


def _check_family(family: str) -> None:
    """Refuse family names that would make list ``_id``s (``<family>/<seq>``) ambiguous."""
    if not family or "/" in family:
        raise ValueError("a list family is a non-empty string without '/'")


def _claim_document(
    list_id: str, counter: int, reference: str | None, claimed_at: datetime
) -> dict[str, Any]:
    """The claim that makes ``counter`` of ``list_id`` its inserter's (unique ``_id``)."""
    return {
        "_id": f"{list_id}#{counter}",
        "list_id": list_id,
        "counter": counter,
        "reference": reference,
        "claimed_at": claimed_at,
    }


class BlockAllocator(StatusIndexAllocator):
    """The allocator under the name the issuer's composition root and services use.

    Batches take many slots at once through :meth:`StatusIndexAllocator.allocate_many` (one
    unordered ``insert_many`` of unique-``_id`` claims per list, atomic on FerretDB 1.24).
    """

"""Block allocation on top of the engine's status index allocator.

The engine's :class:`StatusIndexAllocator` claims one counter per ``insert_one`` (a claim document
whose unique ``_id`` makes the counter its owner's, see its module docstring). On FerretDB each
allocation costs three round trips, which would dominate a 10,000-recipient batch.
``allocate_many`` claims a whole run of counters with one ``insert_many`` of the same claim
documents; the ones a concurrent issuer got first come back as duplicate-key errors and are simply
skipped. Uniqueness, the keyed permutation and the roll-over to a new list are unchanged.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pymongo import ASCENDING
from pymongo.errors import BulkWriteError

from sceau_shared.credentials.status.allocation import Allocation, StatusIndexAllocator
from sceau_shared.credentials.status.errors import StatusListFullError

_MAX_ROUNDS = 64
_DUPLICATE_KEY = 11000


class BlockAllocator(StatusIndexAllocator):
    """The engine's allocator plus block claims."""

    async def allocate_many(self, family: str, count: int) -> list[Allocation]:
        """Allocate ``count`` indexes, spilling into the next list when one fills up."""
        out: list[Allocation] = []
        for _ in range(_MAX_ROUNDS):
            missing = count - len(out)
            if missing <= 0:
                return out
            doc = await self._lists.find_one(
                {"family": family, "full": False}, sort=[("seq", ASCENDING)]
            )
            if doc is None:
                await self._open_next_list(family)
                continue
            list_id, size, start = str(doc["_id"]), int(doc["size"]), int(doc["next"])
            end = min(start + missing, size)
            won = set(range(start, end))
            now = datetime.now(UTC)
            claims = [
                {
                    "_id": f"{list_id}#{counter}",
                    "list_id": list_id,
                    "counter": counter,
                    "reference": None,
                    "claimed_at": now,
                }
                for counter in range(start, end)
            ]
            if claims:
                try:
                    await self._claims.insert_many(claims, ordered=False)
                except BulkWriteError as exc:
                    for error in exc.details.get("writeErrors", []):
                        if error.get("code") != _DUPLICATE_KEY:
                            raise
                        won.discard(start + int(error["index"]))
                await self._lists.update_one({"_id": list_id}, {"$max": {"next": end}})
            if end >= size:
                await self._lists.update_one({"_id": list_id}, {"$set": {"full": True}})
            permutation = self._permutation(list_id, size, bytes(doc["key"]))
            out.extend(
                Allocation(
                    list_id=list_id,
                    family=family,
                    seq=int(doc["seq"]),
                    index=permutation(counter),
                    size=size,
                )
                for counter in sorted(won)
            )
        raise StatusListFullError(f"could not allocate {count} indexes for {family!r}")

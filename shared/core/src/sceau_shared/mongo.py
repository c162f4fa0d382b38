"""MongoDB plumbing: one client per process, idempotency markers, index bootstrap.

Sceau relies only on features FerretDB 1.24 (SQLite backend) also offers: single-document atomic
writes (``update_one``/``find_one_and_update`` with ``$set``/``$inc``/``$push``/``$pull``), unique
indexes, and simple queries. No multi-document transactions, no change streams: cross-document
consistency comes from the embedded outbox (see :mod:`sceau_shared.outbox`) and idempotent
consumers.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

from pymongo import AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from sceau_shared.events.envelope import utcnow
from sceau_shared.settings import MongoSettings

Document = dict[str, Any]


def create_client(settings: MongoSettings, *, app_name: str) -> AsyncMongoClient[Document]:
    """Create (lazily connecting) the process's one client. Call it in the app lifespan.

    ``tz_aware`` makes every datetime read back aware (UTC), matching the event contracts.
    """
    return AsyncMongoClient(
        settings.uri.get_secret_value(),
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        connect=False,
    )


def database(
    client: AsyncMongoClient[Document], settings: MongoSettings
) -> AsyncDatabase[Document]:
    """Return the service's own database."""
    return client[settings.database]


async def ping(client: AsyncMongoClient[Document]) -> None:
    """Raise when the server does not answer (used by readiness probes and start-up checks)."""
    await client.admin.command("ping")


async def next_counter(collection: AsyncCollection[Document], counter_id: str) -> int:
    """Return the next value (1, 2, 3, ...) of a counter, unique even under concurrent callers.

    Why not ``find_one_and_update`` with ``$inc``: on FerretDB 1.24 (SQLite) it is a read-modify-
    write that is *not* atomic — concurrent callers get the same value (a test shows it). What is
    atomic on every MongoDB-protocol server is inserting a unique ``_id``. So each value is claimed
    by inserting ``"<counter_id>:<n>"``; a duplicate means someone else took ``n``, so try higher.
    A separate hint document remembers roughly where the counter is, so claims start near the top.
    """
    hint_id = f"{counter_id}:hint"
    hint = await collection.find_one({"_id": hint_id})
    candidate = int(hint["value"]) + 1 if hint else 1
    while True:
        try:
            await collection.insert_one(
                {"_id": f"{counter_id}:{candidate}", "counter": counter_id, "n": candidate}
            )
        except DuplicateKeyError:
            hint = await collection.find_one({"_id": hint_id})
            candidate = max(candidate + 1, int(hint["value"]) + 1 if hint else 1)
            continue
        # The hint only speeds up the next claim; a stale or lowered hint costs retries, not
        # correctness, so a non-atomic $max is enough — and two first upserts racing to create
        # it (one gets a duplicate key on FerretDB) lose nothing either.
        with contextlib.suppress(DuplicateKeyError):
            await collection.update_one(
                {"_id": hint_id}, {"$max": {"value": candidate}}, upsert=True
            )
        return candidate


class HasIndexes(Protocol):
    """Repositories own their indexes and create them at start-up."""

    async def ensure_indexes(self) -> None:
        """Create the indexes this repository's queries rely on (idempotent)."""


async def ensure_all_indexes(*repositories: HasIndexes) -> None:
    """Run every repository's index bootstrap (called once from the lifespan)."""
    for repo in repositories:
        await repo.ensure_indexes()


class ProcessedEvents:
    """Remembers which events a consumer has fully handled, keyed by (consumer, event id).

    Usage: ``if await processed.seen(c, id): return`` → apply the effect idempotently →
    ``await processed.mark(c, id)``. Marking *after* the effect means a crash in between re-runs
    the handler (at-least-once), never skips it; effects themselves are written idempotently.
    """

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Nothing beyond ``_id``, which is the (consumer, event id) pair and unique by nature."""

    @staticmethod
    def _id(consumer: str, event_id: UUID | str) -> str:
        return f"{consumer}:{event_id}"

    async def seen(self, consumer: str, event_id: UUID | str) -> bool:
        """Return whether this consumer already handled this event."""
        doc = await self._collection.find_one({"_id": self._id(consumer, event_id)}, {"_id": 1})
        return doc is not None

    async def mark(
        self, consumer: str, event_id: UUID | str, *, at: datetime | None = None
    ) -> bool:
        """Record the event as handled; False if it already was (a concurrent duplicate)."""
        try:
            await self._collection.insert_one(
                {"_id": self._id(consumer, event_id), "at": at or utcnow()}
            )
        except DuplicateKeyError:
            return False
        return True

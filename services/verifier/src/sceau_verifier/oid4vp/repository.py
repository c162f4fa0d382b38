"""The OpenID4VP request store: two collections of the verifier's own database, by ``_id`` only.

Every replica must see a request (the wallet's ``direct_post`` may reach one replica and the
employer's polling another), so requests live in MongoDB, not in a process. FerretDB indexes
``_id`` alone, so every read is an ``_id`` lookup, and "answered once" is the insert of the
answer document under the request's id (a unique ``_id`` insert has exactly one winner on every
MongoDB-protocol server; a compare-and-set update does not on FerretDB: docs/mongodb-features.md).

* ``oid4vp_requests``: ``_id`` = request id; nonce, state, what is asked, the hash of the
  employer's read token, expiry and ``purge_at``.
* ``oid4vp_answers``: ``_id`` = request id; the presentations (kept to verify them again when
  the employer reads the answer) or the wallet's refusal code, and ``purge_at``.

Documents are deleted by :meth:`Oid4vpRepository.sweep` after ``purge_at`` (a filter on another
field, run off the request path on a collection that only holds the last hour's requests).
Every call has a deadline; an outage is :class:`~sceau_verifier.errors.Oid4vpStoreUnavailable`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import datetime
from typing import Any, TypeVar

from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from sceau_verifier.errors import Oid4vpStoreUnavailable
from sceau_verifier.settings import Oid4vpSettings

__all__ = ["ANSWERS", "REQUESTS", "Oid4vpRepository", "open_store"]

REQUESTS = "oid4vp_requests"
ANSWERS = "oid4vp_answers"

Document = dict[str, Any]
_T = TypeVar("_T")


def open_store(settings: Oid4vpSettings, *, app_name: str) -> Oid4vpRepository:
    """A repository on a lazily connecting client of ``settings.mongodb_uri`` (owned by it)."""
    if settings.mongodb_uri is None:
        raise ValueError("no OpenID4VP store configured")
    client: AsyncMongoClient[Document] = AsyncMongoClient(
        settings.mongodb_uri.get_secret_value(),
        appname=app_name,
        tz_aware=True,
        serverSelectionTimeoutMS=settings.server_selection_timeout_ms,
        connect=False,
    )
    return Oid4vpRepository(client, client[settings.database], timeout_s=settings.timeout_s)


class Oid4vpRepository:
    """Reads and writes of OpenID4VP requests and answers, each by ``_id``."""

    def __init__(
        self,
        client: AsyncMongoClient[Document] | None,
        db: AsyncDatabase[Document],
        *,
        timeout_s: float,
    ) -> None:
        self._client = client
        self._requests = db[REQUESTS]
        self._answers = db[ANSWERS]
        self._timeout_s = timeout_s

    async def _call(self, operation: Awaitable[_T]) -> _T:
        try:
            async with asyncio.timeout(self._timeout_s):
                return await operation
        except (PyMongoError, TimeoutError) as exc:
            if isinstance(exc, DuplicateKeyError):
                raise
            raise Oid4vpStoreUnavailable() from exc

    async def add_request(self, document: Document) -> None:
        """Store a new request (its ``_id`` is a fresh random id)."""
        await self._call(self._requests.insert_one(document))

    async def request(self, request_id: str) -> Document | None:
        """The request ``request_id``, or ``None``."""
        return await self._call(self._requests.find_one({"_id": request_id}))

    async def answer(self, request_id: str) -> Document | None:
        """The answer recorded for ``request_id``, or ``None`` while none was accepted."""
        return await self._call(self._answers.find_one({"_id": request_id}))

    async def record_answer(self, document: Document) -> bool:
        """Record the one answer of a request; ``False`` if another answer won (a replay)."""
        try:
            await self._call(self._answers.insert_one(document))
        except DuplicateKeyError:
            return False
        return True

    async def sweep(self, now: datetime) -> int:
        """Delete requests and answers past their ``purge_at``; the number deleted."""
        deleted = 0
        for collection in (self._requests, self._answers):
            result = await self._call(collection.delete_many({"purge_at": {"$lt": now}}))
            deleted += result.deleted_count
        return deleted

    async def close(self) -> None:
        """Close the client this repository owns."""
        if self._client is not None:
            await self._client.close()

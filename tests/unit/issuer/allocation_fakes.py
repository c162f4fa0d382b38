"""In-memory stand-ins for the few collection calls the status-index allocator makes."""

from __future__ import annotations

import asyncio
import copy
from collections.abc import Mapping
from typing import Any

from pymongo.errors import BulkWriteError, DuplicateKeyError


class FakeDatabase(dict[str, "FakeCollection"]):
    """``database[name]`` creates the collection on first use, like MongoDB."""

    def __missing__(self, name: str) -> FakeCollection:
        return FakeCollection(name, self)


class FakeCollection:
    """In-memory stand-in for the few ``AsyncCollection`` calls the allocator makes.

    Every call yields to the event loop first, so ``asyncio.gather`` interleaves allocators the
    way concurrent issuers interleave on a real server; each call itself is atomic, like a
    single-document MongoDB operation.
    """

    def __init__(self, name: str = "status_lists", database: FakeDatabase | None = None) -> None:
        self.name = name
        self.database = database if database is not None else FakeDatabase()
        self.database[name] = self
        self.docs: dict[str, dict[str, Any]] = {}

    @staticmethod
    def _matches(doc: Mapping[str, Any], query: Mapping[str, Any]) -> bool:
        return all(doc.get(k) == v for k, v in query.items())

    def _sorted(self, query: Mapping[str, Any], sort: Any) -> list[dict[str, Any]]:
        found = [d for d in self.docs.values() if self._matches(d, query)]
        for key, direction in reversed(sort or []):
            found.sort(key=lambda d, k=key: d[k], reverse=direction < 0)  # type: ignore[misc]
        return found

    async def create_index(self, keys: Any, **kwargs: Any) -> str:
        await asyncio.sleep(0)
        return str(kwargs.get("name", "index"))

    async def update_one(self, query: Mapping[str, Any], update: Mapping[str, Any]) -> None:
        await asyncio.sleep(0)
        for doc in self._sorted(query, None)[:1]:
            doc.update(update.get("$set", {}))
            for key, value in update.get("$max", {}).items():
                doc[key] = max(doc[key], value)

    async def find_one(
        self, query: Mapping[str, Any], *, sort: Any = None, projection: Any = None
    ) -> dict[str, Any] | None:
        await asyncio.sleep(0)
        found = self._sorted(query, sort)
        return copy.deepcopy(found[0]) if found else None

    async def insert_one(self, doc: dict[str, Any]) -> None:
        await asyncio.sleep(0)
        if doc["_id"] in self.docs:
            raise DuplicateKeyError("duplicate _id")
        self.docs[doc["_id"]] = copy.deepcopy(doc)

    async def insert_many(self, docs: list[dict[str, Any]], *, ordered: bool = True) -> None:
        """Unordered inserts keep going past duplicates and report them all, like the server."""
        await asyncio.sleep(0)
        errors: list[dict[str, Any]] = []
        inserted = 0
        for index, doc in enumerate(docs):
            if doc["_id"] in self.docs:
                errors.append({"index": index, "code": 11000, "errmsg": "duplicate _id"})
                if ordered:
                    break
                continue
            self.docs[doc["_id"]] = copy.deepcopy(doc)
            inserted += 1
        if errors:
            raise BulkWriteError({"writeErrors": errors, "nInserted": inserted})

    def find(self, query: Mapping[str, Any], *, projection: Any = None, sort: Any = None) -> Any:
        docs = self._sorted(query, sort)

        async def iterate() -> Any:
            for doc in docs:
                yield {k: v for k, v in doc.items() if k != "key"}

        return iterate()

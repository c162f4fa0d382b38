"""Status index allocation against the real MongoDB-protocol server (FerretDB in development).

Concurrent allocators share one collection through separate clients, as separate issuer
processes would; every allocation must be unique and full lists must roll over.

The last test documents why the allocator claims slots with unique ``_id`` inserts instead of
trusting a ``$inc`` counter: FerretDB 1.24 (SQLite) loses concurrent ``$inc`` updates.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient, ReturnDocument
from pymongo.errors import DuplicateKeyError

from sceau_credentials.status import MIN_ENTRIES, KeyedPermutation
from sceau_issuer.status.allocation_repository import Allocation, StatusIndexAllocator
from sceau_shared.settings import MongoSettings

pytestmark = pytest.mark.integration

Client = AsyncMongoClient[dict[str, Any]]


@contextlib.asynccontextmanager
async def four_clients(first: Client, settings: MongoSettings) -> AsyncIterator[list[Client]]:
    """``first`` and three more connections, as four separate issuer processes would have."""
    uri = settings.uri.get_secret_value()
    others: list[Client] = [AsyncMongoClient(uri, tz_aware=True) for _ in range(3)]
    try:
        yield [first, *others]
    finally:
        for client in others:
            await client.close()


@contextlib.asynccontextmanager
async def four_allocators(
    first: Client, settings: MongoSettings
) -> AsyncIterator[list[StatusIndexAllocator]]:
    """One allocator per connection of :func:`four_clients`, all on the same lists."""
    async with four_clients(first, settings) as clients:
        yield [StatusIndexAllocator(c[settings.database]["status_lists"]) for c in clients]


async def test_concurrent_allocators_never_collide(
    mongo_client: Client, mongo_settings: MongoSettings
) -> None:
    async with four_allocators(mongo_client, mongo_settings) as allocators:
        await allocators[0].ensure_indexes()

        async def issue(allocator: StatusIndexAllocator, count: int) -> list[Allocation]:
            return [await allocator.allocate("college") for _ in range(count)]

        batches = await asyncio.gather(*(issue(a, 40) for a in allocators for _ in range(2)))
        allocations = [a for batch in batches for a in batch]
        slots = {(a.list_id, a.index) for a in allocations}
        assert len(allocations) == 8 * 40
        assert len(slots) == len(allocations)
        assert {a.list_id for a in allocations} == {"college/0"}
        database = mongo_client[mongo_settings.database]
        stored = await database["status_lists"].find_one({"_id": "college/0"})
        assert stored is not None
        # counters are claimed densely from 0: the list fills up with no gaps
        permutation = KeyedPermutation(MIN_ENTRIES, bytes(stored["key"]))
        assert {permutation.inverse(a.index) for a in allocations} == set(range(len(allocations)))
        assert await database["status_lists_claims"].count_documents({}) == len(allocations)


async def test_full_list_rolls_over_under_concurrency(
    mongo_client: Client, mongo_settings: MongoSettings
) -> None:
    collection = mongo_client[mongo_settings.database]["status_lists"]
    allocators = [StatusIndexAllocator(collection) for _ in range(4)]
    await allocators[0].allocate("college")
    # as if 131,066 credentials had been issued from list 0
    await collection.update_one({"_id": "college/0"}, {"$set": {"next": MIN_ENTRIES - 5}})
    allocations = await asyncio.gather(*(allocators[i % 4].allocate("college") for i in range(20)))
    by_list: dict[str, set[int]] = {}
    for allocation in allocations:
        by_list.setdefault(allocation.list_id, set()).add(allocation.index)
    assert sorted(by_list) == ["college/0", "college/1"]
    assert len(by_list["college/0"]) == 5
    assert len(by_list["college/1"]) == 15
    lists = await allocators[0].lists("college")
    assert [(doc["seq"], doc["full"]) for doc in lists] == [(0, True), (1, False)]
    assert all("key" not in doc for doc in lists)


async def test_concurrent_block_allocations_never_collide(
    mongo_client: Client, mongo_settings: MongoSettings
) -> None:
    """``allocate_many`` from several clients, mixed with single allocations, near a roll-over."""
    async with four_allocators(mongo_client, mongo_settings) as allocators:
        await allocators[0].allocate("college")
        collection = mongo_client[mongo_settings.database]["status_lists"]
        # as if 131,032 credentials had been issued: the blocks below overflow into list 1
        await collection.update_one({"_id": "college/0"}, {"$set": {"next": MIN_ENTRIES - 40}})

        async def block(allocator: StatusIndexAllocator) -> list[Allocation]:
            return await allocator.allocate_many("college", 25)

        async def single(allocator: StatusIndexAllocator) -> list[Allocation]:
            return [await allocator.allocate("college")]

        batches = await asyncio.gather(
            *(block(a) for a in allocators), *(single(a) for a in allocators)
        )
        allocations = [a for batch in batches for a in batch]
        assert len(allocations) == 4 * 25 + 4
        assert len({(a.list_id, a.index) for a in allocations}) == len(allocations)
        per_list = {
            list_id: sum(a.list_id == list_id for a in allocations)
            for list_id in {a.list_id for a in allocations}
        }
        assert per_list == {"college/0": 40, "college/1": 64}
        claims = mongo_client[mongo_settings.database]["status_lists_claims"]
        assert await claims.count_documents({"list_id": "college/1"}) == 64


async def test_families_do_not_share_counters(
    mongo_client: Client, mongo_settings: MongoSettings
) -> None:
    allocator = StatusIndexAllocator(mongo_client[mongo_settings.database]["status_lists"])
    first = await allocator.allocate("tenant-a")
    second = await allocator.allocate("tenant-b")
    assert (first.list_id, second.list_id) == ("tenant-a/0", "tenant-b/0")


async def test_why_not_a_bare_inc_counter(
    mongo_client: Client, mongo_settings: MongoSettings
) -> None:
    """Concurrent ``find_one_and_update($inc)`` from several clients; unique inserts stay exact.

    On MongoDB every ``$inc`` result is distinct; on FerretDB 1.24 (SQLite backend) they are not.
    Whatever the server does, the unique-``_id`` claims the allocator relies on admit one winner.
    """
    async with four_clients(mongo_client, mongo_settings) as clients:
        database = mongo_settings.database
        await mongo_client[database]["counter"].insert_one({"_id": "c", "next": 0})

        async def increment(client: Client) -> int:
            doc = await client[database]["counter"].find_one_and_update(
                {"_id": "c"}, {"$inc": {"next": 1}}, return_document=ReturnDocument.AFTER
            )
            assert doc is not None
            return int(doc["next"])

        values = await asyncio.gather(*(increment(clients[i % 4]) for i in range(100)))
        print(f"$inc: {len(set(values))} distinct values out of 100 concurrent increments")

        async def claim(client: Client) -> bool:
            try:
                await client[database]["claims"].insert_one({"_id": "slot"})
            except DuplicateKeyError:
                return False
            return True

        winners = await asyncio.gather(*(claim(clients[i % 4]) for i in range(40)))
        assert sum(winners) == 1

"""Index allocation: a bijective keyed permutation, allocations that never collide, rollover.

The allocator runs here against an in-memory collection whose every call is atomic and yields to
the event loop (see ``allocation_fakes.FakeCollection``); the same scenarios run against the real
MongoDB-protocol server in tests/integration/issuer/test_issuer_allocation_mongo.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, cast

import pytest
from allocation_fakes import FakeCollection
from hypothesis import given, settings
from hypothesis import strategies as st
from pymongo.errors import BulkWriteError

from sceau_credentials.status import MIN_ENTRIES, KeyedPermutation
from sceau_issuer.status.allocation_repository import Allocation, StatusIndexAllocator

KEY = bytes(range(32))


# --- the permutation ------------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(size=st.integers(min_value=1, max_value=3000), key=st.binary(min_size=16, max_size=64))
def test_permutation_is_a_bijection_of_the_range(size: int, key: bytes) -> None:
    permutation = KeyedPermutation(size, key)
    images = [permutation(i) for i in range(size)]
    assert sorted(images) == list(range(size))
    assert all(permutation.inverse(image) == i for i, image in enumerate(images))


def test_full_size_list_permutation_is_a_bijection() -> None:
    permutation = KeyedPermutation(MIN_ENTRIES, KEY)
    assert len({permutation(i) for i in range(MIN_ENTRIES)}) == MIN_ENTRIES


def test_permutation_looks_random_and_depends_on_the_key() -> None:
    first = [KeyedPermutation(MIN_ENTRIES, KEY)(i) for i in range(20)]
    other = [KeyedPermutation(MIN_ENTRIES, KEY[::-1])(i) for i in range(20)]
    assert first != other
    assert first != sorted(first)  # no visible issuance order
    assert max(first) > MIN_ENTRIES // 4  # spread over the list, not clustered at the start


def test_permutation_refuses_bad_parameters() -> None:
    with pytest.raises(ValueError, match="at least one"):
        KeyedPermutation(0, KEY)
    with pytest.raises(ValueError, match="key"):
        KeyedPermutation(10, b"short")
    permutation = KeyedPermutation(10, KEY)
    with pytest.raises(ValueError, match="outside"):
        permutation(10)
    with pytest.raises(ValueError, match="outside"):
        permutation.inverse(-1)


# --- the allocator --------------------------------------------------------------------------------


def allocator(collection: FakeCollection, size: int = MIN_ENTRIES) -> StatusIndexAllocator:
    return StatusIndexAllocator(cast(Any, collection), size=size)


def concurrent_slots(
    workers: int, issue: Callable[[StatusIndexAllocator, int], Awaitable[list[Allocation]]]
) -> list[tuple[str, int]]:
    """Run ``workers`` separate issuers (own allocator, shared collection) at once; their slots."""

    async def scenario() -> list[list[Allocation]]:
        collection = FakeCollection()
        return await asyncio.gather(*(issue(allocator(collection), w) for w in range(workers)))

    return [(a.list_id, a.index) for batch in asyncio.run(scenario()) for a in batch]


async def test_first_allocation_opens_list_zero() -> None:
    collection = FakeCollection()
    allocation = await allocator(collection).allocate("tenant-a")
    assert allocation.list_id == "tenant-a/0"
    assert allocation.seq == 0
    assert allocation.size == MIN_ENTRIES
    assert 0 <= allocation.index < MIN_ENTRIES
    stored = collection.docs["tenant-a/0"]
    assert stored["next"] == 1
    assert len(stored["key"]) == 32
    claims = collection.database["status_lists_claims"].docs
    assert list(claims) == ["tenant-a/0#0"]


@settings(max_examples=15, deadline=None)
@given(
    workers=st.integers(min_value=2, max_value=12),
    per_worker=st.integers(min_value=1, max_value=25),
)
def test_concurrent_allocations_never_collide(workers: int, per_worker: int) -> None:
    async def issue(issuer: StatusIndexAllocator, worker: int) -> list[Allocation]:
        return [await issuer.allocate("college") for _ in range(per_worker)]

    slots = concurrent_slots(workers, issue)
    assert len(slots) == workers * per_worker
    assert len(set(slots)) == len(slots)


async def test_full_list_rolls_over_to_a_new_list() -> None:
    collection = FakeCollection()
    issuer = allocator(collection)
    await issuer.allocate("college")
    collection.docs["college/0"]["next"] = MIN_ENTRIES - 3  # as if 131,069 had been issued
    allocations = await asyncio.gather(
        *(allocator(collection).allocate("college") for _ in range(8))
    )
    by_list: dict[str, set[int]] = {}
    for allocation in allocations:
        by_list.setdefault(allocation.list_id, set()).add(allocation.index)
    assert sorted(by_list) == ["college/0", "college/1"]
    assert len(by_list["college/0"]) == 3
    assert len(by_list["college/1"]) == 5
    assert collection.docs["college/0"]["full"] is True
    assert collection.docs["college/1"]["full"] is False
    assert collection.docs["college/0"]["key"] != collection.docs["college/1"]["key"]
    assert [doc["seq"] for doc in await issuer.lists("college")] == [0, 1]
    assert all("key" not in doc for doc in await issuer.lists("college"))


async def test_last_index_of_a_list_is_the_permutation_of_the_last_counter() -> None:
    collection = FakeCollection()
    issuer = allocator(collection)
    await issuer.allocate("college")
    collection.docs["college/0"]["next"] = MIN_ENTRIES - 1
    last = await issuer.allocate("college")
    key = collection.docs["college/0"]["key"]
    assert last.index == KeyedPermutation(MIN_ENTRIES, key)(MIN_ENTRIES - 1)
    assert (await issuer.allocate("college")).list_id == "college/1"


async def test_families_are_independent() -> None:
    collection = FakeCollection()
    issuer = allocator(collection)
    first = await issuer.allocate("tenant-a")
    second = await issuer.allocate("tenant-b")
    assert (first.list_id, second.list_id) == ("tenant-a/0", "tenant-b/0")


async def test_allocator_refuses_small_lists_and_bad_families() -> None:
    with pytest.raises(ValueError, match="131072"):
        StatusIndexAllocator(cast(Any, FakeCollection()), size=1024)
    for family in ("", "a/b"):
        with pytest.raises(ValueError, match="family"):
            await allocator(FakeCollection()).allocate(family)


async def test_ensure_indexes() -> None:
    await allocator(FakeCollection()).ensure_indexes()


# --- block allocation -----------------------------------------------------------------------------


async def test_allocate_many_claims_a_run_with_the_same_claim_documents() -> None:
    collection = FakeCollection()
    issuer = allocator(collection)
    single = await issuer.allocate("college", reference="cred-0")
    block = await issuer.allocate_many("college", 5, reference="batch-1")
    assert len(block) == 5
    assert {a.list_id for a in block} == {"college/0"}
    key = collection.docs["college/0"]["key"]
    permutation = KeyedPermutation(MIN_ENTRIES, key)
    assert [permutation.inverse(a.index) for a in block] == [1, 2, 3, 4, 5]
    assert single.index not in {a.index for a in block}
    assert collection.docs["college/0"]["next"] == 6
    claims = collection.database["status_lists_claims"].docs
    assert sorted(claims) == [f"college/0#{counter}" for counter in range(6)]
    assert set(claims["college/0#0"]) == set(claims["college/0#3"])  # same document shape
    assert claims["college/0#3"]["counter"] == 3
    assert claims["college/0#3"]["list_id"] == "college/0"
    assert claims["college/0#3"]["reference"] == "batch-1"


async def test_allocate_many_skips_counters_claimed_by_someone_else() -> None:
    collection = FakeCollection()
    issuer = allocator(collection)
    await issuer.allocate("college")
    claims = collection.database["status_lists_claims"]
    for counter in (2, 3, 6):  # another issuer won these, but had not yet advanced "next"
        await claims.insert_one({"_id": f"college/0#{counter}", "counter": counter})
    block = await issuer.allocate_many("college", 6)
    permutation = KeyedPermutation(MIN_ENTRIES, collection.docs["college/0"]["key"])
    assert [permutation.inverse(a.index) for a in block] == [1, 4, 5, 7, 8, 9]
    assert collection.docs["college/0"]["next"] == 10


async def test_allocate_many_spills_into_the_next_list() -> None:
    collection = FakeCollection()
    issuer = allocator(collection)
    await issuer.allocate("college")
    collection.docs["college/0"]["next"] = MIN_ENTRIES - 4
    block = await issuer.allocate_many("college", 10)
    assert [a.list_id for a in block] == ["college/0"] * 4 + ["college/1"] * 6
    assert [a.seq for a in block] == [0] * 4 + [1] * 6
    assert len({(a.list_id, a.index) for a in block}) == 10
    assert collection.docs["college/0"]["full"] is True
    assert collection.docs["college/1"]["next"] == 6
    last = KeyedPermutation(MIN_ENTRIES, collection.docs["college/0"]["key"])(MIN_ENTRIES - 1)
    assert block[3].index == last


@settings(max_examples=15, deadline=None)
@given(
    workers=st.integers(min_value=2, max_value=8),
    block=st.integers(min_value=1, max_value=40),
)
def test_concurrent_blocks_and_singles_never_collide(workers: int, block: int) -> None:
    async def issue(issuer: StatusIndexAllocator, worker: int) -> list[Allocation]:
        if worker % 2:
            return [await issuer.allocate("college")]
        return await issuer.allocate_many("college", block)

    slots = concurrent_slots(workers, issue)
    assert len(slots) == (workers // 2) + ((workers + 1) // 2) * block
    assert len(set(slots)) == len(slots)


async def test_allocate_many_of_nothing_and_bad_arguments() -> None:
    collection = FakeCollection()
    assert await allocator(collection).allocate_many("college", 0) == []
    assert collection.docs == {}  # no list opened for nothing
    with pytest.raises(ValueError, match="negative"):
        await allocator(collection).allocate_many("college", -1)
    for family in ("", "a/b"):
        with pytest.raises(ValueError, match="family"):
            await allocator(collection).allocate_many(family, 1)


async def test_allocate_many_reraises_errors_other_than_duplicates() -> None:
    collection = FakeCollection()
    issuer = allocator(collection)
    await issuer.allocate("college")

    async def refuse(docs: list[dict[str, Any]], *, ordered: bool = True) -> None:
        raise BulkWriteError({"writeErrors": [{"index": 0, "code": 121, "errmsg": "invalid"}]})

    collection.database["status_lists_claims"].insert_many = refuse  # type: ignore[method-assign]
    with pytest.raises(BulkWriteError):
        await issuer.allocate_many("college", 3)

"""Index allocation: a bijective keyed permutation, allocations that never collide, rollover.

The allocator runs here against an in-memory collection whose every call is atomic and yields to
the event loop (see ``ob3_samples.FakeCollection``); the same scenarios run against the real
MongoDB-protocol server in tests/integration/engine/test_allocation_mongo.py.
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ob3_samples import FakeCollection

from sceau_shared.credentials.status import MIN_ENTRIES, KeyedPermutation
from sceau_shared.credentials.status.allocation import StatusIndexAllocator

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
    async def scenario() -> list[tuple[str, int]]:
        collection = FakeCollection()
        allocators = [allocator(collection) for _ in range(workers)]  # separate issuers

        async def issue(worker: StatusIndexAllocator) -> list[tuple[str, int]]:
            return [
                ((a := await worker.allocate("college")).list_id, a.index)
                for _ in range(per_worker)
            ]

        batches = await asyncio.gather(*(issue(a) for a in allocators))
        return [slot for batch in batches for slot in batch]

    slots = asyncio.run(scenario())
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

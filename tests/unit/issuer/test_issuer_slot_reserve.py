"""Status slots claimed ahead: every slot handed out is claimed, once, and groups cost no writes.

The reserve runs over the real allocator on the in-memory collection of
``allocation_fakes.FakeCollection`` (every call atomic, yielding to the event loop); the issuer
uses it for every allocation (tests/integration/issuer covers it against the real server).
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest
from allocation_fakes import FakeCollection
from hypothesis import given, settings
from hypothesis import strategies as st

from sceau_credentials.status import MIN_ENTRIES
from sceau_issuer.status.allocation_repository import StatusIndexAllocator
from sceau_issuer.status.reserve import SlotReserve


class CountingCollection(FakeCollection):
    """The fake collection, counting the writes and reads the allocator sends."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    async def find_one(self, *args: Any, **kwargs: Any) -> Any:
        self.calls += 1
        return await super().find_one(*args, **kwargs)

    async def update_one(self, *args: Any, **kwargs: Any) -> None:
        self.calls += 1
        await super().update_one(*args, **kwargs)


def reserve(collection: FakeCollection, block: int = 16) -> SlotReserve:
    return SlotReserve(StatusIndexAllocator(cast(Any, collection)), block=block)


def claims(collection: FakeCollection) -> dict[str, Any]:
    return dict(collection.database["status_lists_claims"].docs)


async def test_a_short_stock_claims_a_block_beyond_the_ask_and_serves_later_groups() -> None:
    collection = CountingCollection()
    slots = reserve(collection, block=16)
    first = await slots.allocate_many("college", 3)
    assert len(claims(collection)) == 3 + 16  # claimed before anything is handed out
    assert slots.held("college") == 16
    calls = collection.calls
    later = [await slots.allocate_many("college", 4) for _ in range(4)]
    assert collection.calls == calls  # four groups, not one read or write of the lists
    assert slots.held("college") == 0
    handed = [(a.list_id, a.index) for a in first + [a for group in later for a in group]]
    assert len(set(handed)) == len(handed) == 19
    # Every slot handed out is backed by a claim: its counter's claim document exists.
    assert {a.list_id for a in first} == {"college/0"}
    assert await slots.allocate("college") is not None
    assert len(claims(collection)) == 19 + 1 + 16  # the next short stock claimed another block


async def test_a_large_ask_takes_the_stock_first_and_claims_only_the_rest_plus_a_block() -> None:
    collection = FakeCollection()
    slots = reserve(collection, block=8)
    await slots.allocate_many("college", 1)  # 1 + 8 claimed, 8 held
    chunk = await slots.allocate_many("college", 250)
    assert len(chunk) == 250
    assert len(claims(collection)) == 9 + (250 - 8) + 8
    assert slots.held("college") == 8


async def test_block_zero_claims_exactly_what_is_asked() -> None:
    collection = FakeCollection()
    slots = reserve(collection, block=0)
    assert len(await slots.allocate_many("college", 5)) == 5
    assert len(claims(collection)) == 5
    assert slots.held("college") == 0


async def test_families_have_their_own_stock() -> None:
    collection = FakeCollection()
    slots = reserve(collection, block=4)
    a = await slots.allocate("tenant-a")
    b = await slots.allocate("tenant-b")
    assert a.family == "tenant-a"
    assert b.family == "tenant-b"
    assert slots.held("tenant-a") == slots.held("tenant-b") == 4


async def test_a_stock_spanning_a_full_list_hands_out_both_lists_in_claim_order() -> None:
    collection = FakeCollection()
    slots = reserve(collection, block=0)
    await slots.allocate("college")
    collection.docs["college/0"]["next"] = MIN_ENTRIES - 2
    spilling = reserve(collection, block=6)
    taken = await spilling.allocate_many("college", 1)
    rest = await spilling.allocate_many("college", 6)
    assert [a.seq for a in taken + rest] == [0, 0, 1, 1, 1, 1, 1]


async def test_nothing_or_a_negative_count() -> None:
    collection = FakeCollection()
    slots = reserve(collection)
    assert await slots.allocate_many("college", 0) == []
    assert collection.docs == {}
    with pytest.raises(ValueError, match="negative"):
        await slots.allocate_many("college", -1)
    with pytest.raises(ValueError, match="negative"):
        SlotReserve(StatusIndexAllocator(cast(Any, collection)), block=-1)


@settings(max_examples=15, deadline=None)
@given(
    replicas=st.integers(min_value=1, max_value=4),
    groups=st.lists(st.integers(min_value=1, max_value=20), min_size=1, max_size=12),
    block=st.integers(min_value=0, max_value=24),
)
def test_concurrent_groups_on_several_replicas_never_share_a_slot(
    replicas: int, groups: list[int], block: int
) -> None:
    """Replicas (their own reserve and allocator, one database) serve groups at once."""

    async def scenario() -> tuple[list[tuple[str, int]], int]:
        collection = FakeCollection()
        reserves = [reserve(collection, block) for _ in range(replicas)]
        served = await asyncio.gather(
            *(
                reserves[n % replicas].allocate_many("college", size)
                for n, size in enumerate(groups)
            )
        )
        handed = [(a.list_id, a.index) for group in served for a in group]
        return handed, len(claims(collection))

    handed, claimed = asyncio.run(scenario())
    assert len(handed) == sum(groups)
    assert len(set(handed)) == len(handed)
    assert claimed >= len(handed)  # every slot handed out was claimed (the rest are held)

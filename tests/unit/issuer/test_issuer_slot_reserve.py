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
from sceau_dev.testing.polling import eventually
from sceau_issuer.status.allocation_repository import Allocation, StatusIndexAllocator
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
    later = [await slots.allocate_many("college", 4) for _ in range(2)]
    assert collection.calls == calls  # two groups, not one read or write of the lists
    assert slots.held("college") == 8  # half a block: no claim yet
    # The group that leaves less than half a block is served from the stock at once; the next
    # block is claimed behind it.
    later.append(await slots.allocate_many("college", 4))
    assert slots.held("college") == 4
    assert len(claims(collection)) == 19
    await eventually(
        lambda: slots.held("college") == 4 + 16, timeout_s=5, message="the block behind it"
    )
    assert len(claims(collection)) == 19 + 16
    later += [await slots.allocate_many("college", 4) for _ in range(5)]
    handed = [(a.list_id, a.index) for a in first + [a for group in later for a in group]]
    assert len(set(handed)) == len(handed) == 3 + 8 * 4
    # Every slot handed out is backed by a claim.
    assert {a.list_id for a in first} == {"college/0"}
    assert len(claims(collection)) >= len(handed)
    await slots.close()


class GatedAllocator(StatusIndexAllocator):
    """The real allocator, whose claims wait for ``gate`` once ``hold`` is set."""

    def __init__(self, collection: FakeCollection) -> None:
        super().__init__(cast(Any, collection))
        self.gate = asyncio.Event()
        self.hold = False
        self.asked: list[int] = []
        self.claimed: list[Allocation] = []  # every claim's slots, in claim order

    async def allocate_many(
        self, family: str, count: int, *, reference: str | None = None
    ) -> list[Allocation]:
        self.asked.append(count)
        if self.hold:
            await self.gate.wait()
        claimed = await super().allocate_many(family, count, reference=reference)
        self.claimed += claimed
        return claimed


async def test_a_group_never_waits_for_the_claim_behind_it_and_a_short_one_takes_it_first() -> None:
    collection = FakeCollection()
    allocator = GatedAllocator(collection)
    slots = SlotReserve(allocator, block=8)
    await slots.allocate_many("college", 4)  # 4 + 8 claimed at once, 8 held
    allocator.hold = True  # every later claim is slow
    served = await asyncio.wait_for(slots.allocate_many("college", 5), timeout=5)
    assert len(served) == 5  # from the stock, while the next block is still being claimed
    await asyncio.sleep(0)
    assert allocator.asked == [12, 8]
    # A group larger than the stock waits for that claim, then claims only what it lacks.
    short = asyncio.create_task(slots.allocate_many("college", 12))
    await asyncio.sleep(0.01)
    assert not short.done()
    allocator.gate.set()
    taken = await asyncio.wait_for(short, timeout=5)
    assert allocator.asked == [12, 8, 12 - (3 + 8) + 8]
    # In claim order: what the stock held, the block claimed behind, then the rest.
    assert served + taken == allocator.claimed[4 : 4 + 17]
    await slots.close()


async def test_closing_stops_a_claim_in_the_background() -> None:
    collection = FakeCollection()
    allocator = GatedAllocator(collection)
    slots = SlotReserve(allocator, block=8)
    await slots.allocate_many("college", 6)  # 6 + 8 claimed, 8 held
    allocator.hold = True
    await slots.allocate_many("college", 5)  # leaves 3: the next block is being claimed
    await asyncio.sleep(0)
    await asyncio.wait_for(slots.close(), timeout=5)
    assert slots.held("college") == 3


async def test_a_failed_claim_behind_a_group_leaves_the_next_short_one_to_claim() -> None:
    collection = FakeCollection()
    allocator = GatedAllocator(collection)
    slots = SlotReserve(allocator, block=8)
    await slots.allocate_many("college", 6)  # 8 held
    original = allocator.allocate_many

    async def failing(family: str, count: int, *, reference: str | None = None) -> Any:
        raise RuntimeError("the database went away")

    allocator.allocate_many = failing  # type: ignore[method-assign]
    await slots.allocate_many("college", 5)  # leaves 3; the claim behind it fails (logged)
    await asyncio.sleep(0.01)
    assert slots.held("college") == 3
    allocator.allocate_many = original  # type: ignore[method-assign]
    taken = await slots.allocate_many("college", 4)
    assert taken == allocator.claimed[11:15]  # the stock, then a fresh claim
    assert slots.held("college") == 8
    await slots.close()


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
        for each in reserves:
            await each.close()
        handed = [(a.list_id, a.index) for group in served for a in group]
        return handed, len(claims(collection))

    handed, claimed = asyncio.run(scenario())
    assert len(handed) == sum(groups)
    assert len(set(handed)) == len(handed)
    assert claimed >= len(handed)  # every slot handed out was claimed (the rest are held)

"""Shared reads (API keys, tenants): one read for concurrent callers, never an older one."""

from __future__ import annotations

import asyncio

import pytest

from sceau_issuer.coalesced import CoalescedReads


class Store:
    """A value per key, read slowly, counting the reads."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {"k": 1}
        self.reads = 0
        self.release = asyncio.Event()

    async def load(self, key: str) -> int:
        self.reads += 1
        value = self.values[key]  # what the read sees is what was there when it started
        await self.release.wait()
        return value


async def test_callers_asking_together_share_one_read() -> None:
    store = Store()
    reads = CoalescedReads(store.load)
    callers = [asyncio.create_task(reads.get("k")) for _ in range(10)]
    await asyncio.sleep(0)
    store.release.set()
    assert await asyncio.gather(*callers) == [1] * 10
    assert store.reads == 1


async def test_a_caller_arriving_during_a_read_waits_for_the_next_one() -> None:
    store = Store()
    reads = CoalescedReads(store.load)
    early = asyncio.create_task(reads.get("k"))
    await asyncio.sleep(0.01)  # the first read is under way (it saw 1)
    store.values["k"] = 2  # e.g. the key was revoked before the next request came in
    late = [asyncio.create_task(reads.get("k")) for _ in range(5)]
    await asyncio.sleep(0.01)
    store.release.set()
    assert await early == 1
    assert await asyncio.gather(*late) == [2] * 5  # never the answer read before they asked
    assert store.reads == 2


async def test_an_error_reaches_the_callers_of_that_read_only() -> None:
    store = Store()
    reads = CoalescedReads(store.load)
    store.release.set()
    callers = [asyncio.create_task(reads.get("missing")) for _ in range(3)]
    for caller in callers:
        with pytest.raises(KeyError):
            await caller
    assert await reads.get("k") == 1


async def test_a_caller_giving_up_does_not_cancel_the_read() -> None:
    store = Store()
    reads = CoalescedReads(store.load)
    impatient = asyncio.create_task(reads.get("k"))
    patient = asyncio.create_task(reads.get("k"))
    await asyncio.sleep(0)
    impatient.cancel()
    store.release.set()
    assert await patient == 1
    assert store.reads == 1


async def test_callers_a_moment_apart_join_a_read_that_waits_for_them() -> None:
    """``gather_s``: the read starts that long after the first caller, after all who joined."""
    store = Store()
    store.release.set()
    reads = CoalescedReads(store.load, gather_s=0.05)
    first = asyncio.create_task(reads.get("k"))
    await asyncio.sleep(0.01)
    assert store.reads == 0  # not started yet: later callers may still join
    store.values["k"] = 2  # changed before the read started: every caller sees it
    later = [asyncio.create_task(reads.get("k")) for _ in range(3)]
    assert await asyncio.gather(first, *later) == [2] * 4
    assert store.reads == 1

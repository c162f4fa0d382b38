""" "Which series hold this achievement?": issues in flight when the answer expires share one probe.

Every issue asks it (prerequisites, then the award rule); the answer is remembered for a second,
and at 16 clients the 16 issues in flight when it expires all missed together, each probing the
component slots itself. Now they join the probe under way. What must not change: an answer is
still read by primary key, a series created here is seen at once, and a probe that fails (or
whose request is cancelled) does not fail the requests that joined it. Fakes stand in for the
store: the real query is in the hot-query registry ("issue single").
"""

from __future__ import annotations

import asyncio
from typing import Any, cast

import pytest

from sceau_issuer.series.repository import SeriesRepository


class Slots:
    """The ``series_components`` collection: slot documents by ``_id``, reads counted."""

    def __init__(self, docs: dict[str, dict[str, Any]] | None = None) -> None:
        self.docs = docs or {}
        self.reads = 0
        self.gate = asyncio.Event()
        self.gate.set()
        self.failures = 0

    async def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        self.reads += 1
        await self.gate.wait()
        if self.failures:
            self.failures -= 1
            raise ConnectionError("the store went away")
        return self.docs.get(query["_id"])

    async def insert_one(self, doc: dict[str, Any]) -> None:
        self.docs[doc["_id"]] = doc


class SeriesDocs:
    async def find_one(self, query: dict[str, Any]) -> dict[str, Any] | None:
        return {"_id": query["_id"], "institution_id": query["institution_id"]}


def repository(slots: Slots) -> SeriesRepository:
    return SeriesRepository(cast(Any, SeriesDocs()), cast(Any, slots))


SLOT = {"c1|a1#0": {"_id": "c1|a1#0", "series_id": "s1"}}


async def test_concurrent_askers_share_one_probe() -> None:
    slots = Slots(dict(SLOT))
    series = repository(slots)
    slots.gate.clear()
    asking = [asyncio.create_task(series.with_component("c1", "a1")) for _ in range(16)]
    await asyncio.sleep(0.01)
    slots.gate.set()
    answers = await asyncio.gather(*asking)
    assert all([doc["_id"] for doc in answer] == ["s1"] for answer in answers)
    assert slots.reads == 2  # slot #0 found, slot #1 free: one probe for sixteen askers
    await series.with_component("c1", "a1")
    assert slots.reads == 2  # remembered


async def test_a_failed_probe_does_not_fail_those_who_joined_it() -> None:
    slots = Slots(dict(SLOT))
    series = repository(slots)
    slots.gate.clear()
    slots.failures = 1  # the shared probe's read fails; the joiner's own read then succeeds
    first = asyncio.create_task(series.with_component("c1", "a1"))
    await asyncio.sleep(0)
    joined = asyncio.create_task(series.with_component("c1", "a1"))
    await asyncio.sleep(0.01)
    slots.gate.set()
    with pytest.raises(ConnectionError):
        await first
    assert [doc["_id"] for doc in await joined] == ["s1"]


async def test_a_cancelled_joiner_is_cancelled_and_the_probe_goes_on() -> None:
    slots = Slots(dict(SLOT))
    series = repository(slots)
    slots.gate.clear()
    first = asyncio.create_task(series.with_component("c1", "a1"))
    await asyncio.sleep(0)
    joined = asyncio.create_task(series.with_component("c1", "a1"))
    await asyncio.sleep(0.01)
    joined.cancel()
    with pytest.raises(asyncio.CancelledError):
        await joined
    slots.gate.set()
    assert [doc["_id"] for doc in await first] == ["s1"]


async def test_a_series_created_here_is_seen_at_once() -> None:
    slots = Slots()
    series = repository(slots)
    assert await series.with_component("c1", "a1") == []
    await series._claim_slot("c1", "a1", "s2")
    assert [doc["_id"] for doc in await series.with_component("c1", "a1")] == ["s2"]

"""The refreshing cache: one reload at expiry, the previous value served meanwhile."""

from __future__ import annotations

import asyncio

from sceau_shared.cache import RefreshingCache, TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


async def test_expired_value_is_served_while_one_reload_runs() -> None:
    clock = Clock()
    loads: list[str] = []
    gate = asyncio.Event()

    async def load(key: str) -> str:
        loads.append(key)
        await gate.wait()
        return f"{key}-v{len(loads)}"

    cache: RefreshingCache[str, str] = RefreshingCache(load, ttl_s=2.0, max_entries=10, clock=clock)
    gate.set()
    assert await cache.get("a") == "a-v1"
    gate.clear()
    clock.now = 5.0  # expired
    assert [cache.peek("a") for _ in range(50)] == ["a-v1"] * 50
    assert await cache.get("a") == "a-v1"
    gate.set()
    await asyncio.sleep(0)
    await asyncio.sleep(0)
    assert loads == ["a", "a"]  # one reload for 51 readers
    assert cache.peek("a") == "a-v2"


async def test_concurrent_first_readers_share_one_load() -> None:
    loads = 0

    async def load(key: str) -> str | None:
        nonlocal loads
        loads += 1
        await asyncio.sleep(0.01)
        return None if key == "missing" else key.upper()

    cache: RefreshingCache[str, str] = RefreshingCache(load, ttl_s=2.0, max_entries=10)
    results = await asyncio.gather(*(cache.get("x") for _ in range(20)))
    assert results == ["X"] * 20
    assert loads == 1
    assert await cache.get("missing") is None
    assert cache.peek("missing") is None  # absent values are not cached


def test_ttl_cache_expires_and_evicts() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache(ttl_s=1.0, max_entries=2, clock=clock)
    cache.put("a", 1)
    cache.put("b", 2)
    cache.put("c", 3)
    assert cache.get("a") is None  # evicted (least recently used)
    assert cache.get("b") == 2
    clock.now = 2.0
    assert cache.get("b") is None  # expired


def test_ttl_cache_bounds_the_total_weight() -> None:
    clock = Clock()
    cache: TtlCache[str, bytes] = TtlCache(
        ttl_s=10.0, max_entries=100, clock=clock, max_weight=10, weigh=len
    )
    cache.put("a", b"1234")
    cache.put("b", b"1234")
    cache.put("c", b"1234")  # 12 > 10: the least recently used goes
    assert cache.get("a") is None
    assert cache.weight == 8
    cache.put("huge", b"x" * 11)  # heavier than the whole bound: not kept
    assert cache.get("huge") is None
    assert cache.weight == 8
    cache.put("b", b"12")  # replacing an entry replaces its weight
    assert cache.weight == 6
    clock.now = 11.0
    assert cache.get("b") is None  # expired entries give their weight back
    assert cache.weight == 4
    cache.invalidate_where(lambda key, _: key == "c")
    assert cache.weight == 0

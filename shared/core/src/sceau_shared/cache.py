"""The one in-process cache every service and the engine use: bounded, LRU, with a TTL.

Hot answers are served from memory, not MongoDB or the network. Each replica keeps its own; a
change this replica handles invalidates its entry at once, a change handled elsewhere is seen after
at most ``ttl_s``. Bounded by entry count (``max_entries``), so attacker-chosen keys cannot grow it
without limit; a cache of attacker-sized values (fetched documents) also bounds their total
weight (``max_weight`` with ``weigh``, e.g. bytes).
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Least-recently-used cache whose entries expire ``ttl_s`` after they were stored.

    With ``max_weight`` and ``weigh``, the least recently used entries are also evicted while the
    held values weigh more than ``max_weight`` in total (a value heavier than that is not kept).
    """

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
        max_weight: int | None = None,
        weigh: Callable[[V], int] | None = None,
    ) -> None:
        self._ttl = ttl_s
        self._max = max_entries
        self._clock = clock
        self._entries: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._max_weight = max_weight if weigh is not None else None
        self._weigh = weigh
        self._weights: dict[K, int] = {}
        self.weight = 0
        """Total weight of the held values (0 without ``weigh``)."""

    def get(self, key: K) -> V | None:
        """Return the fresh value of ``key`` or None."""
        item = self._entries.get(key)
        if item is None:
            return None
        if item[0] <= self._clock():
            self._drop(key)
            return None
        self._entries.move_to_end(key)
        return item[1]

    def entry(self, key: K) -> tuple[bool, V] | None:
        """``(fresh, value)`` for a held key, expired or not (for serve-stale-while-reloading)."""
        item = self._entries.get(key)
        if item is None:
            return None
        self._entries.move_to_end(key)
        return item[0] > self._clock(), item[1]

    def __len__(self) -> int:
        return len(self._entries)

    def put(self, key: K, value: V) -> None:
        """Store ``value`` (nothing is kept when the TTL is zero)."""
        if self._ttl <= 0:
            return
        self._drop(key)
        if self._weigh is not None:
            weight = self._weigh(value)
            if self._max_weight is not None and weight > self._max_weight:
                return
            self._weights[key] = weight
            self.weight += weight
        self._entries[key] = (self._clock() + self._ttl, value)
        while len(self._entries) > self._max or (
            self._max_weight is not None and self.weight > self._max_weight
        ):
            self._drop(next(iter(self._entries)))

    def _drop(self, key: K) -> None:
        if self._entries.pop(key, None) is not None:
            self.weight -= self._weights.pop(key, 0)

    def invalidate(self, key: K) -> None:
        """Forget ``key``."""
        self._drop(key)

    def invalidate_where(self, stale: Callable[[K, V], bool]) -> int:
        """Forget every held entry (expired or not) ``stale(key, value)`` selects; return how many.

        A scan of the whole cache, for rare events that name entries by their content (an
        institution whose trust answers must go), never for a request's path.
        """
        keys = [key for key, (_, value) in self._entries.items() if stale(key, value)]
        for key in keys:
            self._drop(key)
        return len(keys)

    def clear(self) -> None:
        """Forget everything."""
        self._entries.clear()
        self._weights.clear()
        self.weight = 0


class RefreshingCache(Generic[K, V]):
    """A TTL cache that keeps serving an expired value while *one* background reload runs.

    Under load, a plain TTL cache expires for every concurrent client at once and they all hit the
    database together (a thundering herd on every period). Here the first reader after expiry
    starts a reload and everyone — that reader included — gets the previous value until it lands;
    a value is therefore at most ``ttl_s`` plus one reload old. A key never seen is loaded once,
    with concurrent first readers awaiting the same load.
    """

    def __init__(
        self,
        load: Callable[[K], Awaitable[V | None]],
        *,
        ttl_s: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load
        self._store: TtlCache[K, V] = TtlCache(ttl_s=ttl_s, max_entries=max_entries, clock=clock)
        self._loading: dict[K, asyncio.Task[V | None]] = {}

    def put(self, key: K, value: V) -> None:
        """Store a value known to be current (e.g. just written by this replica)."""
        self._store.put(key, value)

    def invalidate(self, key: K) -> None:
        """Forget ``key`` (the next reader loads it)."""
        self._store.invalidate(key)

    def clear(self) -> None:
        """Forget everything."""
        self._store.clear()

    def peek(self, key: K) -> V | None:
        """The held value, fresh or not, without waiting (an expired one triggers a reload)."""
        item = self._store.entry(key)
        if item is None:
            return None
        fresh, value = item
        if not fresh:
            self._reload(key)
        return value

    async def get(self, key: K) -> V | None:
        """The held value (reloading in the background if expired), or load it now."""
        held = self.peek(key)
        if held is not None:
            return held
        return await self._reload(key)

    def _reload(self, key: K) -> asyncio.Task[V | None]:
        task = self._loading.get(key)
        if task is None:
            task = asyncio.get_running_loop().create_task(self._fetch(key))
            self._loading[key] = task
        return task

    async def _fetch(self, key: K) -> V | None:
        try:
            value = await self._load(key)
            if value is None:
                self._store.invalidate(key)
            else:
                self.put(key, value)
            return value
        finally:
            self._loading.pop(key, None)

"""Concurrent requests asking for the same document share one read, never a stale one.

Every authenticated request reads its API key and its institution by ``_id``; with 16 clients of
one institution in flight that is 32 identical lookups (on FerretDB ~2 ms of server CPU each)
for answers that are the same. :class:`CoalescedReads` lets callers asking for the same key share
one read — but only a read that *starts after they asked*: a caller that arrives while a read is
already under way waits for the next one (joined by everyone arriving meanwhile). So an answer is
never older than the request (a key revoked before the request was sent is refused, as without
coalescing), and no time-based cache is involved.

With ``gather_s`` a read that no one is waiting behind starts that long after its first caller
instead of at once, so callers a moment apart join it: sixteen clients answered together come
back over about a millisecond, and without it the first started a read alone and the fifteen
others waited for a second one (the API-key gate's reads were then 6 to 10 ms of a 60-ms cycle at
16 clients, docs/benchmarks.md). Every caller still gets a read that started after it asked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

GATHER_S = 0.001
"""How long the issuer's key and institution reads wait for more callers (see above)."""

K = TypeVar("K")
V = TypeVar("V")


class CoalescedReads(Generic[K, V]):
    """Shares one ``load(key)`` among the callers that asked for ``key`` before it started."""

    def __init__(self, load: Callable[[K], Awaitable[V]], *, gather_s: float = 0.0) -> None:
        """``load`` reads one key; ``gather_s``: how long a new read waits for more callers."""
        self._load = load
        self._gather_s = gather_s
        self._running: dict[K, asyncio.Future[V]] = {}
        self._next: dict[K, asyncio.Future[V]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, key: K) -> V:
        """The value (or the error) of a read of ``key`` that started after this call."""
        future = self._next.get(key)
        if future is None:
            # No read waiting to start: this call prepares one (others join it until it starts).
            future = asyncio.get_running_loop().create_future()
            self._next[key] = future
            running = self._running.get(key)
            if running is None and self._gather_s > 0:
                # Callers a moment apart (clients answered together, coming back) join it.
                asyncio.get_running_loop().call_later(self._gather_s, self._start, key)
            elif running is None:
                self._start(key)
            else:
                # A read is under way, perhaps from before this call: the next one follows it.
                running.add_done_callback(lambda _: self._start(key))
        return await asyncio.shield(future)

    def _start(self, key: K) -> None:
        task = asyncio.get_running_loop().create_task(self._read(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, key: K) -> None:
        future = self._next.pop(key)
        self._running[key] = future
        try:
            value = await self._load(key)
        except Exception as exc:  # noqa: BLE001 - every caller of this read gets it
            future.set_exception(exc)
        else:
            future.set_result(value)
        finally:
            if not future.done():  # the read itself was cancelled (shutdown)
                future.cancel()
            del self._running[key]

"""Status slots claimed ahead of need, so a small group of issues costs no allocation writes.

Allocating through :class:`~sceau_issuer.status.allocation_repository.StatusIndexAllocator`
costs three database commands per call (read the current list, insert the claims, advance the
list's ``next`` hint) whatever the number of slots. A batch pays them once per chunk; a group of
single issues (six or seven credentials at 16 clients) paid them once per group, about half a
command per credential, a third of everything a single issue sent to the database.

:class:`SlotReserve` claims ``block`` slots more than asked whenever its stock of a family runs
short and hands the surplus to the next callers, in claim order. What stays true:

* every slot handed out is one this issuer *claimed* (a unique-``_id`` claim document written
  before the slot leaves the reserve), so two issuers, or two replicas, never share a slot: the
  allocator's argument is unchanged;
* a slot is handed out once: the stock is a queue, refilled under one lock per family;
* what a process held in stock when it stopped is never used: a few dozen unused positions of a
  131,072-entry list (an unused position is a zero bit, like a credential never revoked), the
  price of one process's life, not of its traffic.

Lives in the issuer's graph (one per process); nothing is shared between processes.
"""

from __future__ import annotations

import asyncio
from collections import deque

from sceau_issuer.status.allocation_repository import Allocation, StatusIndexAllocator

__all__ = ["SlotReserve"]


class SlotReserve:
    """Hands out status slots from per-family stocks claimed ``block`` at a time.

    Args:
        allocator: the allocator whose claims back every slot.
        block: slots claimed beyond the ask when a family's stock runs short; ``0`` claims
            exactly what is asked (no stock, the allocator's own behaviour).
    """

    def __init__(self, allocator: StatusIndexAllocator, *, block: int = 64) -> None:
        if block < 0:
            raise ValueError("the reserve block cannot be negative")
        self._allocator = allocator
        self._block = block
        self._stock: dict[str, deque[Allocation]] = {}
        self._locks: dict[str, asyncio.Lock] = {}

    def held(self, family: str) -> int:
        """Slots claimed for ``family`` and not yet handed out (for tests and metrics)."""
        return len(self._stock.get(family, ()))

    async def allocate(self, family: str) -> Allocation:
        """One slot of the family's current list (see :meth:`allocate_many`)."""
        return (await self.allocate_many(family, 1))[0]

    async def allocate_many(self, family: str, count: int) -> list[Allocation]:
        """``count`` distinct claimed slots, oldest claims first.

        Raises:
            ValueError: ``count`` is negative or the family is malformed.
            StatusListFullError: the allocator kept losing races (pathological contention).
        """
        if count < 0:
            raise ValueError("cannot allocate a negative number of status indexes")
        if count == 0:
            return []
        lock = self._locks.setdefault(family, asyncio.Lock())
        async with lock:
            stock = self._stock.setdefault(family, deque())
            if len(stock) < count:
                wanted = count - len(stock) + self._block
                stock.extend(await self._allocator.allocate_many(family, wanted))
            return [stock.popleft() for _ in range(count)]

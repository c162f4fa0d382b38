"""Status slots claimed ahead of need, so a small group of issues costs no allocation writes.

Allocating through :class:`~sceau_issuer.status.allocation_repository.StatusIndexAllocator`
costs three database commands per call (read the current list, insert the claims, advance the
list's ``next`` hint) whatever the number of slots. A batch pays them once per chunk; a group of
single issues (six or seven credentials at 16 clients) paid them once per group, about half a
command per credential, a third of everything a single issue sent to the database.

:class:`SlotReserve` claims ``block`` slots more than asked whenever its stock of a family runs
short and hands the surplus to the next callers, in claim order. Once a caller leaves less than
half a block in stock, the next block is claimed in the background, so the group that would have
found the stock short does not wait for the claim: at 16 clients that wait (~10 ms, three
commands) fell on every fourth group, in the middle of its path to the client (issue 19). A
caller that finds the stock short while that claim runs waits for it first, then claims the
rest itself. What stays true:

* every slot handed out is one this issuer *claimed* (a unique-``_id`` claim document written
  before the slot leaves the reserve), so two issuers, or two replicas, never share a slot: the
  allocator's argument is unchanged;
* a slot is handed out once: the stock is a queue, taken from under one lock per family, and
  a claim in the background only appends to it (one at a time per family);
* what a process held in stock when it stopped (or was claiming in the background) is never
  used: at most a block and a half of unused positions of a 131,072-entry list (an unused
  position is a zero bit, like a credential never revoked), the price of one process's life, not
  of its traffic.

Lives in the issuer's graph (one per process); nothing is shared between processes.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections import deque

from sceau_issuer.status.allocation_repository import Allocation, StatusIndexAllocator

_log = logging.getLogger(__name__)

__all__ = ["SlotReserve"]


class SlotReserve:
    """Hands out status slots from per-family stocks claimed ``block`` at a time.

    Args:
        allocator: the allocator whose claims back every slot.
        block: slots claimed beyond the ask when a family's stock runs short, and in the
            background once it falls under half of this; ``0`` claims exactly what is asked (no
            stock, the allocator's own behaviour).
    """

    def __init__(self, allocator: StatusIndexAllocator, *, block: int = 64) -> None:
        if block < 0:
            raise ValueError("the reserve block cannot be negative")
        self._allocator = allocator
        self._block = block
        self._stock: dict[str, deque[Allocation]] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._refills: dict[str, asyncio.Task[None]] = {}

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
            refill = self._refills.get(family)
            if len(stock) < count and refill is not None:
                await asyncio.wait((refill,))  # its slots were claimed first: they go out first
            if len(stock) < count:
                wanted = count - len(stock) + self._block
                stock.extend(await self._allocator.allocate_many(family, wanted))
            taken = [stock.popleft() for _ in range(count)]
            if len(stock) * 2 < self._block and family not in self._refills:
                self._refills[family] = asyncio.get_running_loop().create_task(
                    self._refill(family, stock),
                    name=f"status-slots-{family}",
                    # Not the caller's context: the claim outlives its request (and deadline).
                    context=contextvars.Context(),
                )
            return taken

    async def _refill(self, family: str, stock: deque[Allocation]) -> None:
        """Claim the next block for ``family`` and add it to the stock (in the background)."""
        try:
            stock.extend(await self._allocator.allocate_many(family, self._block))
        except Exception:  # noqa: BLE001 - the next caller short of slots claims them itself
            _log.warning("claiming status slots ahead for %s failed", family, exc_info=True)
        finally:
            self._refills.pop(family, None)

    async def close(self) -> None:
        """Stop the background claims (what they claimed stays unused, like a stopped stock)."""
        refills = list(self._refills.values())
        for refill in refills:
            refill.cancel()
        for refill in refills:
            with contextlib.suppress(asyncio.CancelledError):
                await refill

"""The background loop that deletes expired wallet offers, grants, failed codes and nonces.

Each round deletes, by primary key, what this process inserted and has since expired
(:meth:`WalletRepository.sweep_due`: work proportional to what expired); every
``full_every_s`` it also scans for expired leftovers of other processes or earlier runs
(:meth:`WalletRepository.sweep_all`), the first time shortly after start.
"""

from __future__ import annotations

import asyncio
import logging
import time

from sceau_issuer.wallets.repository import WalletRepository
from sceau_shared.events import utcnow

_log = logging.getLogger(__name__)


class WalletSweeper:
    """Keeps the wallet collections to what may still be used (FerretDB has no TTL index)."""

    def __init__(
        self, repository: WalletRepository, *, interval_s: float, full_every_s: float
    ) -> None:
        self._repo = repository
        self._interval_s = interval_s
        self._full_every_s = full_every_s
        self._next_full = time.monotonic() + interval_s

    async def sweep(self) -> int:
        """One round; return how many documents were deleted."""
        deleted = await self._repo.sweep_due(utcnow())
        if time.monotonic() >= self._next_full:
            self._next_full = time.monotonic() + self._full_every_s
            deleted += await self._repo.sweep_all(utcnow())
        return deleted

    async def run(self) -> None:
        """Sweep every ``interval_s`` until cancelled."""
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the next round retries
                _log.exception("wallet sweep failed; retrying next round")

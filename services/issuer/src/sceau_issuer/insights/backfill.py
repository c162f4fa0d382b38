"""Counting, once, what happened before the insights counters existed.

An institution upgrading to a Sceau with insights has credentials already issued, accepted,
shared and revoked; the counters only see events from then on, so its first report would say
zero. At its first start with insights, an issuer counts them: one scan each of the credentials,
the consents and the shares (:mod:`.backfill_repository`), then the same counting calls the
events make. Every fact is counted at most once per credential (the tally's marks), so the
backfill and live events racing on one credential, a crash half-way, or two issuer processes
doing it together never count anything twice; a mark records the end, so later starts skip it.

Not recoverable: verifications before the counters (the verifier's events were not kept), and
which hidden-field share copy stood for which credential (their later checks count for the copy
only).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from sceau_issuer.insights.backfill_repository import BackfillRepository
from sceau_issuer.insights.service import InsightsService
from sceau_shared.events.envelope import utcnow
from sceau_shared.transient import once_through_outages

__all__ = ["InsightsBackfill"]

_log = logging.getLogger(__name__)
_PROGRESS_EVERY = 10_000


class InsightsBackfill:
    """Runs the backfill once per database, retrying through database outages."""

    def __init__(
        self,
        insights: InsightsService,
        repository: BackfillRepository,
        *,
        retry_s: float = 30.0,
        clock: Callable[[], datetime] = utcnow,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._insights = insights
        self._repo = repository
        self._retry_s = retry_s
        self._clock = clock
        self._sleep = sleep

    async def run(self) -> None:
        """The background loop: the backfill, then nothing (it ends); outages are waited out."""
        await once_through_outages(
            self.once, what="insights backfill", retry_s=self._retry_s, sleep=self._sleep
        )

    async def once(self) -> int:
        """Count what was stored before the counters; return how many credentials it read.

        Returns 0 without reading anything when this database's backfill already ran.
        """
        if await self._repo.done():
            return 0
        existing = await self._repo.credentials()
        if existing:
            _log.info("insights backfill: counting %d credentials issued before", len(existing))
        for n, (institution_id, credential_id, revoked) in enumerate(existing, start=1):
            await self._insights.count_existing(institution_id, credential_id, revoked=revoked)
            if n % _PROGRESS_EVERY == 0:
                _log.info("insights backfill: %d of %d credentials", n, len(existing))
        for institution_id, credential_id in await self._repo.accepted():
            await self._insights.accepted(institution_id, credential_id)
        for institution_id, credential_id in await self._repo.shared():
            await self._insights.shared(institution_id, credential_id)
        await self._repo.record_done(self._clock(), len(existing))
        if existing:
            _log.info("insights backfill: done (%d credentials)", len(existing))
        return len(existing)

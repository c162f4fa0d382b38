"""The background loop that indexes, once, the shares of a database older than the index.

See :mod:`sceau_issuer.learners.share_index_repository`: until the build has run, the learner
page and the share-receipts consumer use the former field queries (scans on FerretDB).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from sceau_issuer.learners.share_index_repository import ShareIndex
from sceau_shared.transient import is_transient

__all__ = ["ShareIndexBuild"]

_log = logging.getLogger(__name__)


class ShareIndexBuild:
    """The background loop running :meth:`ShareIndex.build` once, through database outages."""

    def __init__(
        self,
        index: ShareIndex,
        *,
        retry_s: float = 30.0,
        sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self._index = index
        self._retry_s = retry_s
        self._sleep = sleep

    async def run(self) -> None:
        """Build, then end; an outage is waited out, a bug is raised."""
        sleep = self._sleep or asyncio.sleep
        while True:
            try:
                await self._index.build()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                _log.warning("share index: database unavailable (%s); retrying", type(exc).__name__)
                await sleep(self._retry_s)
                continue
            return

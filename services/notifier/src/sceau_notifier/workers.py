"""Background loops run in the lifespan: e-mail retries, webhook deliveries, reminders."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

_log = logging.getLogger(__name__)


async def run_periodically(
    name: str,
    step: Callable[[], Awaitable[int]],
    *,
    interval_s: float,
    wakeup: asyncio.Event | None = None,
) -> None:
    """Call ``step`` forever: again at once while it finds work, else after ``interval_s``.

    ``wakeup`` lets producers of new work cut the wait short. Failures (database or network
    outages) are logged and retried on the next round; cancellation stops the loop.
    """
    while True:
        try:
            did = await step()
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - keep the loop alive through outages
            _log.warning("%s round failed: %s", name, type(exc).__name__)
            did = 0
        if did:
            await asyncio.sleep(0)
            continue
        if wakeup is None:
            await asyncio.sleep(interval_s)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wakeup.wait(), timeout=interval_s)
        wakeup.clear()

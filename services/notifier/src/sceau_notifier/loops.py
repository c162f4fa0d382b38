"""The notifier's background loops: e-mail retries, webhook deliveries, expiry reminders.

The graph (:mod:`sceau_notifier.graph`) names them; the service skeleton starts them once the
consumers run and cancels them at shutdown, before the broker stops.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from sceau_notifier.service.emails import EmailService

_log = logging.getLogger(__name__)

STOP_GRACE_S = 5.0
"""How long a round in flight may take to finish once its loop is cancelled (at shutdown)."""


async def _finishing(round_: Coroutine[Any, Any, int], *, grace_s: float) -> int:
    """Run one round; if the loop is cancelled meanwhile, let the round finish (bounded), then stop.

    Cancelling a round half-way can leave a claim leased until it expires, or a database
    connection half-opened and never closed; finishing it is cheap, since rounds are short.
    """
    task = asyncio.ensure_future(round_)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        if not task.done():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, timeout=grace_s)
        raise


async def run_periodically(
    name: str,
    step: Callable[[], Coroutine[Any, Any, int]],
    *,
    interval_s: float,
    wakeup: asyncio.Event | None = None,
    stop_grace_s: float = STOP_GRACE_S,
) -> None:
    """Call ``step`` forever: again at once while it finds work, else after ``interval_s``.

    ``wakeup`` lets producers of new work cut the wait short. Failures (database or network
    outages) are logged and retried on the next round; cancellation stops the loop — between
    rounds: a round in flight is given up to ``stop_grace_s`` to finish first.
    """
    while True:
        try:
            did = await _finishing(step(), grace_s=stop_grace_s)
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


async def send_email_retries(emails: EmailService, *, interval_s: float) -> None:
    """Send due e-mail retries until cancelled; then wait for the batches still on the wire.

    The consumer hands recorded batches to background sends (see
    :meth:`EmailService.submit_pipelined`). Waiting for them when this loop is cancelled — before
    the broker stops — lets a batch that gives up still publish its dead letters.
    """
    try:
        await run_periodically("email retries", emails.run_due, interval_s=interval_s)
    finally:
        await emails.drain()

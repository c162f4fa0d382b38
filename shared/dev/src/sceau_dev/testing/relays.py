"""Running an outbox relay in a test: in the background, until it has published enough."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from sceau_dev.testing.polling import eventually
from sceau_shared.outbox import OutboxRelay

__all__ = ["running", "wait_published"]


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[OutboxRelay]:
    """Run ``relay.run()`` for the duration of the block, then cancel it."""
    task = asyncio.create_task(relay.run())
    try:
        yield relay
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def wait_published(relay: OutboxRelay, count: int, *, within_s: float = 10.0) -> None:
    """Return once ``relay`` has published ``count`` entries, or after ``within_s``.

    The caller asserts on what was published: a timeout here is not an error by itself.
    """
    with contextlib.suppress(AssertionError):
        await eventually(
            lambda: relay.published >= count,
            timeout_s=within_s,
            interval_s=0.05,
            message=f"{count} entries published",
        )

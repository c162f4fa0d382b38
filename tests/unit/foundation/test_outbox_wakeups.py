"""A relay woken while a pass runs looks again at once (issue 18: a lost wake-up).

The relay's loop used to clear its wake-up flag *after* a pass: a write notified during the pass
(a long sweep, or one held up by a paused database) was then left for the next poll — an hour for
the issuer's targeted relays, whose notified documents are never found by a scan. Seen in the
fault suite: two batch chunks whose events were never published after a database pause.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sceau_shared.outbox import OutboxRelay


class _WokenDuringPass(OutboxRelay):
    """A relay whose first pass is told about a new write while it runs."""

    def __init__(self) -> None:
        super().__init__([], publisher=Any, poll_interval_s=3600.0)  # type: ignore[arg-type]
        self.passes = 0

    async def drain_once(self) -> int:
        self.passes += 1
        if self.passes == 1:
            await asyncio.sleep(0.05)  # the pass is under way...
            self.wake()  # ...when a write is notified
        return 0


async def test_a_wake_up_during_a_pass_starts_another_pass() -> None:
    relay = _WokenDuringPass()
    task = asyncio.create_task(relay.run())
    try:
        for _ in range(100):
            if relay.passes >= 2:
                break
            await asyncio.sleep(0.01)
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert relay.passes >= 2, "the wake-up received during the first pass was lost"

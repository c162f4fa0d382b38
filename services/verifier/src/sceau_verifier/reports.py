"""Best-effort delivery of ``VerificationCompletedV1`` events, one sender per process.

One event per verification is published for the institutions' statistics and verification
webhooks (the notifier); no stored state depends on it, and the employer's answer must never
wait for the broker. An earlier design started one
task per event: when the broker acknowledged more slowly than employers verified (a saturated
2-core machine), hundreds of those tasks waited on aiokafka's full batch together, every drained
batch woke all of them to find it full again, and the verifier's CPU per request grew by a
quarter within seconds (bench/verify.py; ``MessageBatch.wait_drain`` at 12 % of the profile).

Here events wait in a bounded queue and one task hands them to the producer in order, so at most
one caller waits on a full batch. When the queue is full (the broker down or far behind) new
events are dropped and counted rather than holding memory or the employer's request: statistics
lose a few entries, verifications keep their speed.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from sceau_shared.events import VerificationCompletedV1

_log = logging.getLogger(__name__)

EventSink = Callable[[VerificationCompletedV1], Awaitable[None]]


class ReportSender:
    """Queue events and publish them from one task, dropping (and counting) past ``capacity``.

    Args:
        publish: hands one event to the broker (may wait when the producer's buffer is full).
        capacity: events kept waiting at most; the next ones are dropped.
        on_drop: called with each dropped event (metric counters, typically).
    """

    def __init__(
        self,
        publish: EventSink,
        *,
        capacity: int,
        on_drop: Callable[[VerificationCompletedV1], None] = lambda event: None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._publish = publish
        self._capacity = capacity
        self._on_drop = on_drop
        self._queue: deque[VerificationCompletedV1] = deque()
        self._task: asyncio.Task[None] | None = None
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Events queued and not yet handed to the producer."""
        return len(self._queue)

    def offer(self, event: VerificationCompletedV1) -> bool:
        """Queue ``event`` for publication; ``False`` if it was dropped because the queue is full.

        Must be called from the event loop that will publish (a request handler).
        """
        if len(self._queue) >= self._capacity:
            self.dropped += 1
            self._on_drop(event)
            if self.dropped == 1 or self.dropped % 1000 == 0:
                _log.warning(
                    "events dropped: %d so far (queue of %d full; broker slow or down?)",
                    self.dropped,
                    self._capacity,
                )
            return False
        self._queue.append(event)
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="verification-reports")
        return True

    async def _run(self) -> None:
        try:
            while self._queue:
                event = self._queue.popleft()
                try:
                    await self._publish(event)
                except Exception:  # noqa: BLE001 - a broker hiccup must not stop the sender
                    _log.exception("could not publish %s", event.event_type)
        finally:
            self._task = None

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until queued events were handed to the producer (called at shutdown)."""
        task = self._task
        if task is not None:
            await asyncio.wait({task}, timeout=timeout_s)

"""Best-effort delivery of the verifier's events, one sender per process.

The verifier publishes ``VerificationCompletedV1`` (every verification) and ``ShareOpenedV1``
(every share page answered 200); both go through the same queue and loop.

One event per verification is published for the institutions' statistics and verification
webhooks (the notifier); no stored state depends on it, and the employer's answer must never
wait for the broker. An earlier design started one
task per event: when the broker acknowledged more slowly than employers verified (a saturated
2-core machine), hundreds of those tasks waited on aiokafka's full batch together, every drained
batch woke all of them to find it full again, and the verifier's CPU per request grew by a
quarter within seconds (bench/verify.py; ``MessageBatch.wait_drain`` at 12 % of the profile).

Here events wait in a bounded queue and one long-running task (:meth:`ReportSender.run`, one of
the service's background loops) hands them to the producer in order, so at most one caller waits
on a full batch. When the queue is full (the broker down or far behind) new events are dropped
and counted rather than holding memory or the employer's request: statistics lose a few entries,
verifications keep their speed. At shutdown the loop, cancelled before the broker stops, first
hands over what is still queued (within ``drain_timeout_s``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable

from sceau_shared.events.envelope import Event

_log = logging.getLogger(__name__)

EventSink = Callable[[Event], Awaitable[None]]
"""Hands one event (``VerificationCompletedV1`` or ``ShareOpenedV1``) to the broker."""


class ReportSender:
    """Queue events and publish them from one loop, dropping (and counting) past ``capacity``.

    Args:
        publish: hands one event to the broker (may wait when the producer's buffer is full).
        capacity: events kept waiting at most; the next ones are dropped.
        on_drop: called with each dropped event (metric counters, typically).
        drain_timeout_s: how long the cancelled loop keeps handing queued events over.
    """

    def __init__(
        self,
        publish: EventSink,
        *,
        capacity: int,
        on_drop: Callable[[Event], None] = lambda event: None,
        drain_timeout_s: float = 10.0,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._publish = publish
        self._capacity = capacity
        self._on_drop = on_drop
        self._drain_timeout_s = drain_timeout_s
        self._queue: deque[Event] = deque()
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self.dropped = 0

    @property
    def pending(self) -> int:
        """Events queued and not yet handed to the producer."""
        return len(self._queue)

    def offer(self, event: Event) -> bool:
        """Queue ``event`` for publication; ``False`` if it was dropped because the queue is full.

        Must be called from the event loop that runs :meth:`run` (a request handler).
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
        self._idle.clear()
        self._wake.set()
        return True

    async def run(self) -> None:
        """Publish queued events in order until cancelled; then hand over what is left."""
        try:
            while True:
                await self._wake.wait()
                self._wake.clear()
                await self._send_queued()
                self._idle.set()
        except asyncio.CancelledError:
            if self._queue:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._drain_timeout_s):
                        await self._send_queued()
            raise

    async def _send_queued(self) -> None:
        while self._queue:
            event = self._queue.popleft()
            try:
                await self._publish(event)
            except asyncio.CancelledError:
                self._queue.appendleft(event)  # not handed over: the shutdown drain retries it
                raise
            except Exception:  # noqa: BLE001 - a broker hiccup must not stop the sender
                _log.exception("could not publish %s", event.event_type)

    async def drain(self, timeout_s: float = 10.0) -> None:
        """Wait until queued events were handed to the producer (or ``timeout_s`` passed)."""
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), timeout_s)

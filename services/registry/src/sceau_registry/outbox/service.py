"""Relays the registry's event log to Kafka, in order, and flags what was sent.

A crash or a concurrent relay may publish an event twice; consumers absorb that (they deduplicate
on event id). Why a log of separate documents rather than an embedded outbox: see
:mod:`sceau_registry.outbox.repository`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sceau_registry.outbox.repository import EventLog
from sceau_shared.kafka import EventPublisher

_log = logging.getLogger(__name__)


class EventRelay:
    """Publishes the event log to Kafka (acks=all) in order, then flags what was sent."""

    def __init__(
        self,
        log: EventLog,
        publisher: EventPublisher,
        *,
        poll_interval_s: float = 0.5,
        retry_delay_s: float = 1.0,
    ) -> None:
        self._log = log
        self._publisher = publisher
        self._poll_interval_s = poll_interval_s
        self._retry_delay_s = retry_delay_s
        self._wakeup = asyncio.Event()
        self.published = 0

    def wake(self) -> None:
        """Look now (called after events were added)."""
        self._wakeup.set()

    async def drain_once(self) -> int:
        """Publish every pending event once; return how many were sent."""
        sent = 0
        while batch := await self._log.pending():
            for doc in batch:
                await self._publisher.publish_raw(
                    topic=doc["topic"],
                    key=str(doc["key"]).encode(),
                    payload=str(doc["payload"]).encode(),
                    event_id=str(doc["_id"]),
                    event_type=str(doc["event_type"]),
                )
                await self._log.mark_published(str(doc["_id"]))
                sent += 1
        self.published += sent
        return sent

    async def run(self) -> None:
        """Relay until cancelled; failures are retried (events stay pending)."""
        task = asyncio.current_task()
        while True:
            if task is not None and task.cancelling():
                # Cancelled, but a library swallowed the CancelledError (Python 3.11's wait_for
                # does when its wait ends at that moment; pymongo uses it): stop all the same.
                raise asyncio.CancelledError
            self._wakeup.clear()  # before the work, so a wake-up during it is not lost
            try:
                await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep relaying; nothing is lost
                _log.warning("event relay failed, retrying: %s", type(exc).__name__)
                await asyncio.sleep(self._retry_delay_s)
                continue
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for may swallow a cancellation
            # that arrives as its wait ends, and the loop would then never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._poll_interval_s):
                    await self._wakeup.wait()

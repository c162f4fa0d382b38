"""The embedded outbox: events written in the same single-document update as the state change.

A service that changes an aggregate appends the events it must publish to that document's
``outbox`` array **in the same update** (:func:`outbox_push`), so the state change and the intent to
publish commit atomically without transactions. :class:`OutboxRelay` then publishes each pending
entry in order (waiting for the broker's ``acks=all``) and pulls it from the array. A crash between
publish and pull publishes the entry again on restart: consumers deduplicate on ``event_id``.
Several relay replicas do not step on each other: a document is leased before it is relayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pymongo import ReturnDocument
from pymongo.asynchronous.collection import AsyncCollection

from sceau_shared.events.envelope import Event, utcnow
from sceau_shared.kafka import EventPublisher

_log = logging.getLogger(__name__)
_PROPAGATOR = TraceContextTextMapPropagator()

OUTBOX_FIELD = "outbox"
LEASE_FIELD = "outbox_lease_until"


def _stored_trace_context(payload: str) -> dict[str, str]:
    try:
        value = json.loads(payload).get("trace_context") or {}
    except (ValueError, AttributeError):
        return {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def outbox_entry(event: Event) -> dict[str, Any]:
    """Serialise an event into an outbox entry."""
    return {
        "event_id": str(event.event_id),
        "event_type": event.event_type,
        "topic": event.TOPIC,
        "key": event.key.decode(),
        "payload": event.model_dump_json(),
    }


def outbox_push(*events: Event) -> dict[str, Any]:
    """Return the ``$push`` clause appending events to the outbox (merge it into the update)."""
    return {"$push": {OUTBOX_FIELD: {"$each": [outbox_entry(e) for e in events]}}}


class OutboxRelay:
    """Publishes pending outbox entries of the given collections to Kafka."""

    def __init__(
        self,
        collections: Sequence[AsyncCollection[dict[str, Any]]],
        publisher: EventPublisher,
        *,
        poll_interval_s: float = 0.5,
        lease_s: float = 30.0,
        retry_delay_s: float = 1.0,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._collections = list(collections)
        self._publisher = publisher
        self._poll_interval_s = poll_interval_s
        self._lease = timedelta(seconds=lease_s)
        self._retry_delay_s = retry_delay_s
        self._wakeup = asyncio.Event()
        self._tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(__name__)
        self.published = 0

    def wake(self) -> None:
        """Ask the relay to look now (call after writing to an outbox, to cut latency)."""
        self._wakeup.set()

    async def ensure_indexes(self) -> None:
        """Index the pending-entry lookup so relaying stays cheap when outboxes are empty."""
        for coll in self._collections:
            await coll.create_index(f"{OUTBOX_FIELD}.event_id", sparse=True)

    async def _claim(self, coll: AsyncCollection[dict[str, Any]]) -> dict[str, Any] | None:
        now = utcnow()
        return await coll.find_one_and_update(
            {
                f"{OUTBOX_FIELD}.event_id": {"$exists": True},
                "$or": [{LEASE_FIELD: {"$exists": False}}, {LEASE_FIELD: {"$lt": now}}],
            },
            {"$set": {LEASE_FIELD: now + self._lease}},
            return_document=ReturnDocument.AFTER,
        )

    async def drain_once(self) -> int:
        """Relay every pending entry once; return how many were published."""
        total = 0
        for coll in self._collections:
            while (doc := await self._claim(coll)) is not None:
                entries: list[dict[str, Any]] = list(doc.get(OUTBOX_FIELD) or [])
                sent: list[dict[str, Any]] = []
                try:
                    for entry in entries:
                        await self._publish(entry)
                        sent.append(entry)
                finally:
                    update: dict[str, Any] = {"$unset": {LEASE_FIELD: ""}}
                    if sent:
                        # $pullAll with the exact entries: FerretDB 1.24 silently ignores $pull
                        # with a condition, so remove the very elements we published.
                        update["$pullAll"] = {OUTBOX_FIELD: sent}
                    await coll.update_one({"_id": doc["_id"]}, update)
                total += len(sent)
        self.published += total
        return total

    async def _publish(self, entry: dict[str, Any]) -> None:
        # Continue the trace of the request that wrote the event: the span (and the Kafka headers
        # the FastStream middleware injects under it) hang below the original request's span.
        payload = str(entry["payload"])
        parent = _PROPAGATOR.extract(_stored_trace_context(payload))
        with self._tracer.start_as_current_span(
            f"outbox relay {entry['topic']}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={"messaging.destination.name": str(entry["topic"])},
        ):
            await self._publisher.publish_raw(
                topic=entry["topic"],
                key=str(entry["key"]).encode(),
                payload=payload.encode(),
                event_id=entry["event_id"],
                event_type=entry["event_type"],
            )

    async def run(self) -> None:
        """Relay forever (until cancelled), retrying after broker or database failures."""
        while True:
            try:
                await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep relaying; entries stay in the outbox
                _log.warning("outbox relay failed, retrying: %s", type(exc).__name__)
                await asyncio.sleep(self._retry_delay_s)
                continue
            self._wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._poll_interval_s)

"""The embedded outbox: events written in the same single-document update as the state change.

A service that changes an aggregate appends the events it must publish to that document's
``outbox`` array **in the same update** (:func:`outbox_push`), so the state change and the intent to
publish commit atomically without transactions. :class:`OutboxRelay` then publishes the pending
entries (waiting for the broker's ``acks=all``) and records them as published. Entries of one
document that share a topic and key are published one after the other, in order; entries with
different keys are sent together (:func:`waves`), so a document carrying a chunk's 500 events
costs a few produce round trips instead of 500 (a sequential relay was the issuer batch's tail).

The relay never writes to the aggregate documents. On FerretDB 1.24 every update is a
read-modify-write of the whole document that is *not* atomic (a test shows concurrent updates
being lost), so a relay that trimmed the outbox or set a lease on the document could erase a
state change the service wrote at the same moment. Instead it keeps its own state in two side
collections of the same database, written only by inserts and deletes of whole documents, which
are atomic everywhere:

* ``outbox_published`` — one document per published event id (the "already sent" marker);
* ``outbox_leases`` — one document per aggregate being relayed, so replicas do not relay the
  same document at the same time (an expired lease is taken over).

A crash between publishing and writing the marker publishes the entry again on restart:
consumers deduplicate on ``event_id``. Outbox entries stay in their document as its event
history (``$push`` with ``$slice`` would bound it on MongoDB, but FerretDB 1.24 silently ignores
``$slice``, so no bound is relied on).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Sequence
from datetime import timedelta
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from sceau_shared.events.envelope import Event, utcnow
from sceau_shared.kafka import EventPublisher
from sceau_shared.metrics import BusinessMetrics

_log = logging.getLogger(__name__)
_PROPAGATOR = TraceContextTextMapPropagator()

OUTBOX_FIELD = "outbox"
PUBLISHED_COLLECTION = "outbox_published"
LEASES_COLLECTION = "outbox_leases"
_REMEMBERED = 1_000_000
_IN_FLIGHT = 256
"""Publications sent together at most (aiokafka groups them into produce requests)."""
_DUPLICATE_KEY = 11000

Document = dict[str, Any]


def _payload_body(payload: str) -> dict[str, Any] | None:
    """A stored event's JSON object, read once per publication (``None`` if it is not one).

    The relay needs two of its fields: the trace context it continues and, for the metrics,
    the profile or the change it counts.
    """
    try:
        body = json.loads(payload)
    except ValueError:
        return None
    return body if isinstance(body, dict) else None


def _stored_trace_context(body: dict[str, Any] | None) -> dict[str, str]:
    value = (body or {}).get("trace_context") or {}
    return {str(k): str(v) for k, v in value.items()} if isinstance(value, dict) else {}


def waves(entries: Sequence[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """Split entries into groups that may be published concurrently, keeping per-key order.

    Kafka keeps order per partition, and a key always maps to the same partition, so only
    entries with the same topic and key must wait for each other: the n-th entry of a
    (topic, key) goes into wave n. Within a wave every (topic, key) appears once.
    """
    groups: list[list[dict[str, Any]]] = []
    seen: dict[tuple[str, str], int] = {}
    for entry in entries:
        identity = (str(entry.get("topic")), str(entry.get("key")))
        level = seen.get(identity, -1) + 1
        seen[identity] = level
        if level == len(groups):
            groups.append([])
        groups[level].append(entry)
    return groups


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
    """Publishes pending outbox entries of the given collections to Kafka.

    Subclasses may override :meth:`_candidates` to look at fewer documents (for example only
    those a service just wrote); the default scans every document that has outbox entries.
    """

    def __init__(
        self,
        collections: Sequence[AsyncCollection[Document]],
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
        # Event ids known to be published (bounded): spares a marker lookup on every scan.
        self._done: OrderedDict[str, None] = OrderedDict()
        # Every sweep consults the markers for entries not in memory (published by another
        # replica, or before the memory window moved on), so nothing is published twice by
        # sweeps and the work of a sweep is bounded by the markers, not by memory. Only entries
        # a process has just written itself and been told about skip the lookup once its first
        # full pass is done (see sceau_issuer.relay).
        self._recovered = False
        self.published = 0
        # Set by a service that wants its published business events counted (issued, revoked...).
        self.metrics: BusinessMetrics | None = None

    def wake(self) -> None:
        """Ask the relay to look now (call after writing to an outbox, to cut latency)."""
        self._wakeup.set()

    @staticmethod
    def _published(coll: AsyncCollection[Document]) -> AsyncCollection[Document]:
        return coll.database[PUBLISHED_COLLECTION]

    @staticmethod
    def _leases(coll: AsyncCollection[Document]) -> AsyncCollection[Document]:
        return coll.database[LEASES_COLLECTION]

    async def ensure_indexes(self) -> None:
        """Index the pending-entry lookup (cheap on MongoDB; FerretDB scans regardless)."""
        for coll in self._collections:
            await coll.create_index(f"{OUTBOX_FIELD}.event_id", sparse=True)

    async def _candidates(self, coll: AsyncCollection[Document]) -> AsyncIterator[Document]:
        """Yield documents that may hold unpublished entries (default: all with an outbox)."""
        async for doc in coll.find({f"{OUTBOX_FIELD}.event_id": {"$exists": True}}):
            yield doc

    def _remember(self, event_id: str) -> None:
        self._done[event_id] = None
        if len(self._done) > _REMEMBERED:
            self._done.popitem(last=False)

    async def _pending(
        self, coll: AsyncCollection[Document], doc: Document, *, consult: bool = True
    ) -> list[dict[str, Any]]:
        """The document's entries not known to be published.

        With ``consult`` (every sweep), an entry this process has not seen published is looked
        up in the published markers first: another replica, or this process before its memory
        window moved on, may have published it. Without (only for entries this process has just
        written, see :class:`sceau_issuer.relay.TargetedOutboxRelay`) memory alone decides.
        """
        entries = [e for e in doc.get(OUTBOX_FIELD) or [] if isinstance(e, dict)]
        unknown = [
            str(e.get("event_id")) for e in entries if str(e.get("event_id")) not in self._done
        ]
        if unknown and consult:
            await self._recall(coll, unknown)
        return [e for e in entries if str(e.get("event_id")) not in self._done]

    async def _recall(self, coll: AsyncCollection[Document], event_ids: Sequence[str]) -> None:
        # One primary-key lookup per id: ``{_id: {$in: [...]}}`` reads the whole marker
        # collection on FerretDB 1.24 (docs/mongodb-features.md).
        markers = self._published(coll)
        for event_id in event_ids:
            if await markers.find_one({"_id": event_id}, {"_id": 1}) is not None:
                self._remember(event_id)

    async def _take_lease(self, coll: AsyncCollection[Document], doc_id: Any) -> bool:
        leases = self._leases(coll)
        key = f"{coll.name}:{doc_id}"
        now = utcnow()
        for _ in range(2):
            try:
                await leases.insert_one({"_id": key, "until": now + self._lease})
            except DuplicateKeyError:
                # Someone holds it; take it over only if it expired (its holder died).
                result = await leases.delete_one({"_id": key, "until": {"$lt": now}})
                if result.deleted_count == 0:
                    return False
                continue
            return True
        return False

    async def _release_lease(self, coll: AsyncCollection[Document], doc_id: Any) -> None:
        await self._leases(coll).delete_one({"_id": f"{coll.name}:{doc_id}"})

    async def _relay_document(self, coll: AsyncCollection[Document], doc: Document) -> int:
        pending = await self._pending(coll, doc)
        if not pending or not await self._take_lease(coll, doc["_id"]):
            return 0
        try:
            # Re-read under the lease: another relay may have published entries meanwhile.
            return await self._publish_pending(coll, doc["_id"], consult=True)
        finally:
            await self._release_lease(coll, doc["_id"])

    async def relay_by_id(
        self, coll: AsyncCollection[Document], doc_id: Any, *, consult: bool = True
    ) -> int | None:
        """Relay one document known to have new entries, reading it once, under the lease.

        For a caller that was told which document changed (no scan, no read before the lease:
        a batch chunk carrying 500 events is large). Returns ``None`` when another relay holds
        the document's lease, so the caller can try again later. ``consult``: see
        :meth:`_pending`.
        """
        if not await self._take_lease(coll, doc_id):
            return None
        try:
            return await self._publish_pending(coll, doc_id, consult=consult)
        finally:
            await self._release_lease(coll, doc_id)

    async def _publish_pending(
        self, coll: AsyncCollection[Document], doc_id: Any, *, consult: bool
    ) -> int:
        fresh = await coll.find_one({"_id": doc_id})
        pending = await self._pending(coll, fresh, consult=consult) if fresh is not None else []
        return await self._publish_entries(coll, pending)

    async def _publish_entries(
        self, coll: AsyncCollection[Document], pending: list[dict[str, Any]]
    ) -> int:
        """Publish one document's pending entries in per-key waves; return how many."""
        sent = 0
        for wave in waves(pending):
            for start in range(0, len(wave), _IN_FLIGHT):
                sent += await self._publish_together(coll, wave[start : start + _IN_FLIGHT])
        return sent

    async def _publish_together(
        self, coll: AsyncCollection[Document], entries: list[dict[str, Any]], *, mark: bool = True
    ) -> int:
        """Publish entries concurrently, mark the acknowledged ones, then raise any failure.

        A failure stops the document's later waves (so a key's next event never overtakes
        one that failed); what was acknowledged is marked first, so a retry resends only the
        rest (and consumers absorb a duplicate if the marker write itself fails).
        ``mark=False``: the acknowledged entries are only remembered in memory, for a caller
        that records their publication its own way (the issuer deletes the write's pending
        marker: ``sceau_issuer.relay``), sparing one marker document per event.
        """
        outcomes = await asyncio.gather(
            *(self._publish(entry) for entry in entries), return_exceptions=True
        )
        done = [e for e, outcome in zip(entries, outcomes, strict=True) if outcome is None]
        if done and mark:
            await self._mark(coll, done)
        elif done:
            for entry in done:
                self._remember(str(entry["event_id"]))
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        return len(done)

    async def _mark(self, coll: AsyncCollection[Document], entries: list[dict[str, Any]]) -> None:
        at = utcnow()
        markers = [
            {"_id": str(entry["event_id"]), "at": at, "collection": coll.name} for entry in entries
        ]
        try:
            await self._published(coll).insert_many(markers, ordered=False)
        except BulkWriteError as exc:
            # Markers another relay (or an earlier attempt) already wrote are fine.
            others = [
                e for e in exc.details.get("writeErrors", []) if e.get("code") != _DUPLICATE_KEY
            ]
            if others:
                raise
        for entry in entries:
            self._remember(str(entry["event_id"]))

    async def drain_once(self) -> int:
        """Relay every pending entry once; return how many were published."""
        total = 0
        for coll in self._collections:
            async for doc in self._candidates(coll):
                total += await self._relay_document(coll, doc)
        self._recovered = True
        self.published += total
        return total

    async def _publish(self, entry: dict[str, Any]) -> None:
        # Continue the trace of the request that wrote the event: the span (and the Kafka headers
        # the FastStream middleware injects under it) hang below the original request's span.
        payload = str(entry["payload"])
        body = _payload_body(payload)
        parent = _PROPAGATOR.extract(_stored_trace_context(body))
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
        if self.metrics is not None:
            self._count(str(entry["event_type"]), body)

    def _count(self, event_type: str, body: dict[str, Any] | None) -> None:
        assert self.metrics is not None  # noqa: S101 - checked by the caller
        if body is None or event_type not in {"credential-issued", "credential-status-changed"}:
            return
        if event_type == "credential-issued":
            self.metrics.issued.add(1, {"profile": str(body.get("profile", ""))})
        else:
            self.metrics.status_changed.add(1, {"change": str(body.get("change", ""))})

    async def run(self) -> None:
        """Relay forever (until cancelled), retrying after broker or database failures."""
        while True:
            # Cleared before the pass, not after it: a write notified while a pass runs (a long
            # sweep, or one held up by a database pause) must wake the next pass at once. Cleared
            # after, that wake-up was lost and the notified document waited for the next poll
            # (an hour for the issuer's targeted relays): issue 18, seen in
            # tests/faults/test_faults_issuing.py (two batch chunks never announced).
            self._wakeup.clear()
            try:
                await self.drain_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - keep relaying; entries stay in the outbox
                _log.warning("outbox relay failed, retrying: %s", type(exc).__name__)
                await asyncio.sleep(self._retry_delay_s)
                continue
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._poll_interval_s)

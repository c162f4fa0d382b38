"""An outbox relay that finds pending documents by id instead of by scanning.

``sceau_shared.outbox.OutboxRelay`` looks at every document that has outbox entries; MongoDB
answers that from an index, but FerretDB 1.24 (SQLite) scans and parses every document of the
collection — measured 1.8 s per look with 3,000 credentials — and entries stay in their documents
as history, so the set only grows. For ``credentials`` and ``batch_chunks`` this relay is told
which documents just received events (``notify``, ``notify_written``) and reads exactly those,
by primary key.

Entries written by a process that died before relaying them are never lost: every write of
entries to these collections first inserts a pending marker
(:mod:`sceau_issuer.pending_repository`), and the relay deletes it once the entries are
published. The sweep reads the markers — the unpublished work, not the collection — at
start-up and then every ``sweep_interval_s`` (60 s by default), and relays the documents of
markers older than a lease (younger ones belong to a live writer that is about to relay them).
For entries handed over from memory, the marker's deletion is the only record of their
publication (no ``outbox_published`` document per event: 500 per batch chunk, two per single
issue, in a collection that grew with every credential ever issued); a reminder about a
document therefore reads it only when it still has a marker.
Issue 19: the former sweep read every credential, 345 s at 250,000 on FerretDB, and a periodic
one held a cursor for minutes, during which FerretDB's SQLite log could not be checkpointed.

Documents written before the markers existed are found by one full sweep per database (two, in
fact: the second after a dead process's lease has run out), after which ``outbox_sweeps``
records it and no process reads the whole collection again. A collection that is empty at a
process's first look (a new database) is recorded at once, with no full sweep: before, a first
process that lived less than the two sweeps left the record unwritten, and every later start-up
read the whole collection again (the 250,000-credential benchmark's seeded pass ran during it).
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from opentelemetry.trace import TracerProvider

from sceau_issuer.pending_repository import (
    clear_pending,
    has_pending,
    marked_documents,
    marker_id,
    needs_legacy_sweep,
    pending_markers,
    record_legacy_swept,
)
from sceau_shared.events import utcnow
from sceau_shared.kafka import EventPublisher
from sceau_shared.outbox import OutboxRelay, waves

_BUSY_RETRY_S = 1.0
#: Publications of written entries sent together at most (as the shared relay does per wave).
_IN_FLIGHT = 256
#: Sweeps of the pending markers, by default (they read only the unpublished work).
DEFAULT_SWEEP_S = 60.0
#: Markers of published entries are deleted together: at this many, or after this long.
_CLEAR_AT = 256
_CLEAR_AFTER_S = 1.0

#: A MongoDB collection with outbox entries. The relays only hand it to
#: :class:`~sceau_shared.outbox.OutboxRelay`, which does the queries; the composition root
#: (``graph.py``) picks the collections.
OutboxCollection = Any


class TargetedOutboxRelay(OutboxRelay):
    """Relay one collection's outbox entries, claiming notified documents by ``_id``.

    Several of them share a collection by giving each document to exactly one relay
    (:class:`RelayPool`); only one of them sweeps. Leases and published markers are kept by the
    base class in side collections, so no relay ever writes to a credential document.

    ``lease_notified=False`` relays notified documents without taking their lease: for a
    collection with one relay per process (``credentials``), which drains what it is told and
    sweeps in the same loop, one after the other, the lease only guards against another
    process's sweep passing over the same new document at that moment; the rare duplicate that
    can then be published is absorbed by consumers (they deduplicate on ``event_id``, as after a
    crash between publishing and writing the marker). It spares two of the four writes a single
    credential costs the relay (FerretDB: ~4 ms of its CPU per insert or delete).
    """

    def __init__(
        self,
        collection: OutboxCollection,
        publisher: EventPublisher,
        *,
        sweep_interval_s: float | None,
        sweeps: bool = True,
        lease_s: float = 30.0,
        lease_notified: bool = True,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        interval = DEFAULT_SWEEP_S if sweep_interval_s is None else sweep_interval_s
        super().__init__(
            [collection],
            publisher,
            # The loop also wakes for the sweeps (and for every write it is told about).
            poll_interval_s=interval,
            lease_s=lease_s,
            tracer_provider=tracer_provider,
        )
        self._notified: deque[Any] = deque()
        # Reminders (notify): documents an earlier run may already have relayed, read only when
        # they still have a pending marker.
        self._reminders: deque[Any] = deque()
        # Documents just inserted with these entries: published from memory, never read back.
        # The flag: whether the write has a marker of its own (else a group's marker covers
        # it, listed in _written_groups: grouped single issues).
        self._written: list[tuple[Any, list[dict[str, Any]], bool]] = []
        self._written_groups: list[str] = []
        self._lease_notified = lease_notified
        self._sweep_interval_s = interval
        # Sweep at start-up, then every interval; a relay with ``sweeps=False`` never sweeps
        # (another one of its pool does).
        self._next_sweep = 0.0 if sweeps else float("inf")
        # Whether this database still needs the full sweep of documents written before the
        # pending markers (None: not looked up yet). That sweep skips documents still leased by
        # a process that died; a second one, once such a lease has run out, picks them up.
        self._legacy: bool | None = None
        self._legacy_sweeps_left = 2
        self._lease_s = lease_s
        self._sweeping = False
        # Markers of writes whose entries are published, deleted together (see _clear).
        self._published_writes: list[str] = []
        self._clear_due = 0.0

    def _after_sweep(self) -> float:
        """Seconds until the next sweep: the second full one (old databases), or the interval."""
        if self._legacy:
            self._legacy_sweeps_left -= 1
            if self._legacy_sweeps_left > 0:
                return self._lease_s + 5.0
        return self._sweep_interval_s

    def notify(self, document_id: Any) -> None:
        """A document of the collection may hold unpublished entries: relay them soon.

        For a reminder about a document an earlier run may have relayed (a resumed batch, a
        retried request, a write whose outcome its writer does not know): nothing is read unless
        the document still has a pending marker (one read of the small marker collection); then
        it is read back and its entries looked up among the published markers (and this
        process's memory). Entries the caller has just written go through
        :meth:`notify_written` instead (no read, no look-up: 500 of each per batch chunk of 250
        credentials were a third of the issuer's main-process time in a batch).
        """
        self._reminders.append(document_id)
        self.wake()

    def notify_written(self, document_id: Any, entries: list[dict[str, Any]]) -> None:
        """A document was just *inserted* with these outbox entries: publish them from memory.

        Only for a new document, or one whose outbox was empty until this write (a batch chunk
        just recorded): nothing else can have written to its outbox yet. The relay
        publishes the entries of every document written since its last look together, then
        deletes their writes' pending markers in one command: that is the record of their
        publication (no published marker per event), so a crash between the broker's
        acknowledgement and the delete publishes them again (consumers deduplicate on
        ``event_id``), as a crash before the marker insert did.
        """
        self._written.append((document_id, entries, True))
        self.wake()

    def notify_written_together(
        self, marker: str | None, written: Sequence[tuple[Any, list[dict[str, Any]]]]
    ) -> None:
        """Documents just inserted together under one marker (``mark_together``): publish them.

        As :meth:`notify_written`, for a group of new documents whose write has one pending
        marker for them all (``marker``, ``None`` when none carries entries). They are handed
        over in one call, so they are published together and the marker is deleted only once
        every one of them is. If publishing fails, they are read back by id at the retry and
        the marker stays until the sweep, which relays its documents again (what this process
        published is remembered and skipped) and then deletes it.
        """
        self._written.extend((document_id, entries, False) for document_id, entries in written)
        if marker is not None:
            self._written_groups.append(marker)
        self.wake()

    async def drain_once(self) -> int:
        """Relay notified documents; once per sweep interval, also look for forgotten ones."""
        sent = await self.relay_written()
        await self._take_reminders()
        sent += await self._drain_notified()
        self.published += sent
        await self._clear()
        if time.monotonic() < self._next_sweep:
            return sent
        (collection,) = self._collections
        if self._legacy is None:
            self._legacy = await needs_legacy_sweep(collection)
        self._sweeping = True
        try:
            if self._legacy:
                sent += await self._legacy_sweep()
            else:
                sent += await self.sweep_pending()
        finally:
            self._next_sweep = time.monotonic() + self._after_sweep()
            self._sweeping = False
        if self._legacy and self._legacy_sweeps_left <= 0:
            await record_legacy_swept(collection)
            self._legacy = False
        return sent

    async def _legacy_sweep(self) -> int:
        # Every document with an outbox (the base class's pass), for a database whose documents
        # were written before the pending markers.
        if not self._recovered:
            await self._preload_markers()
        return await super().drain_once()

    async def sweep_pending(self) -> int:
        """Relay the documents of pending markers older than a lease; return events sent.

        A younger marker belongs to a write that its process is about to relay (or a write still
        in flight). A marker whose document does not exist is the trace of a writer that died
        before writing: it is dropped. One leased by another relay is tried at the next sweep.
        """
        (collection,) = self._collections
        cutoff = utcnow() - timedelta(seconds=self._lease_s)
        sent, done = 0, []
        # Read whole first (a handful of documents): no cursor stays open while relaying.
        for marker in await pending_markers(collection):
            at = marker["at"]
            if (at if at.tzinfo else at.replace(tzinfo=UTC)) > cutoff:
                continue
            relayed = True
            # One document, or a group's (``mark_together``): the marker goes once each of
            # them that exists is relayed.
            for document_id in marked_documents(marker):
                if await collection.find_one({"_id": document_id}, {"_id": 1}) is None:
                    continue
                result = await self.relay_by_id(collection, document_id)
                if result is None:
                    relayed = False  # leased by another relay: the next sweep tries again
                else:
                    sent += result
            if relayed:
                done.append(str(marker["_id"]))
        await clear_pending(collection, done)
        self.published += sent
        return sent

    def _published_write(self, first_event_id: str) -> None:
        (collection,) = self._collections
        self._published_markers([marker_id(collection.name, first_event_id)])

    def _published_markers(self, markers: Sequence[str]) -> None:
        """These writes' entries are published: delete their markers with the next ones."""
        if not markers:
            return
        if not self._published_writes:
            self._clear_due = time.monotonic() + _CLEAR_AFTER_S
            asyncio.get_running_loop().call_later(_CLEAR_AFTER_S, self.wake)
        self._published_writes.extend(markers)

    async def _clear(self) -> None:
        """Delete the markers of published writes: together, once enough or late enough.

        A crash before the delete leaves markers whose entries are published: the next sweep
        finds them all marked as published and only drops the markers.
        """
        if not self._published_writes:
            return
        if len(self._published_writes) >= _CLEAR_AT or time.monotonic() >= self._clear_due:
            (collection,) = self._collections
            ids, self._published_writes = self._published_writes, []
            try:
                await clear_pending(collection, ids)
            except BaseException:
                self._published_writes = ids + self._published_writes
                raise

    async def relay_written(self) -> int:
        """Publish the entries handed over by the ``notify_written*`` methods; return how many.

        Once acknowledged, their writes' pending markers are deleted at once (one command for
        all the writes taken): a reminder or another process's sweep then knows they are
        published. Published entries are also remembered in memory, as every relay does.
        """
        (collection,) = self._collections
        sent = 0
        while self._written:
            taken, self._written = self._written, []
            groups, self._written_groups = self._written_groups, []
            entries = [
                entry
                for _, written, _ in taken
                for entry in written
                if str(entry.get("event_id")) not in self._done
            ]
            try:
                for wave in waves(entries):
                    for start in range(0, len(wave), _IN_FLIGHT):
                        sent += await self._publish_together(
                            collection, wave[start : start + _IN_FLIGHT], mark=False
                        )
            except BaseException:
                # Read back by id at the retry (their markers are still there; what was
                # published is remembered and skipped). A group's marker is left to the sweep.
                self._notified.extend(document_id for document_id, _, _ in taken)
                raise
            markers = [
                marker_id(collection.name, str(written[0]["event_id"]))
                for _, written, own in taken
                if own and written
            ] + groups
            try:
                await clear_pending(collection, markers)
            except BaseException:
                # Published: the markers go with the next deletion of published writes' ones.
                self._published_markers(markers)
                raise
        return sent

    async def _take_reminders(self) -> None:
        # A reminded document is read only if a write to it still has its marker: without one,
        # everything written to it was published (or predates the markers: the legacy sweep's).
        (collection,) = self._collections
        while self._reminders:
            document_id = self._reminders[0]
            if await has_pending(collection, document_id):
                self._notified.append(document_id)
            self._reminders.popleft()

    async def _publish_entries(self, coll: OutboxCollection, pending: list[dict[str, Any]]) -> int:
        # A document read back (notified, or found by a sweep): its oldest unpublished entry
        # opens the write that notified it (the marker's key). Markers of older writes published
        # here too are left to the sweep.
        sent = await super()._publish_entries(coll, pending)
        if pending:
            self._published_write(str(pending[0]["event_id"]))
        return sent

    async def _drain_notified(self) -> int:
        # Notified documents by primary key, each read once under its lease (cheap on FerretDB).
        # One whose lease another relay holds, or whose relaying failed, is tried again (shortly,
        # or at the run loop's retry), not left to the sweep.
        (collection,) = self._collections
        sent, busy = 0, []
        while self._notified:
            document_id = self._notified.popleft()
            try:
                # After the first full pass (old databases only), memory alone says which
                # entries are new; otherwise they are looked up among the published markers.
                consult = not self._recovered
                if self._lease_notified:
                    result = await self.relay_by_id(collection, document_id, consult=consult)
                else:
                    result = await self._publish_pending(collection, document_id, consult=consult)
            except BaseException:
                # A broker or database failure: keep the document for the retry.
                self._notified.appendleft(document_id)
                raise
            if result is None:
                busy.append(document_id)
            else:
                sent += result
        if busy:
            self._notified.extend(busy)
            asyncio.get_running_loop().call_later(_BUSY_RETRY_S, self.wake)
        return sent

    async def _relay_document(self, coll: OutboxCollection, doc: Any) -> int:
        # A document the sweep finds leased (typically by a process that died moments ago) is
        # retried every _BUSY_RETRY_S until that lease expires, instead of at the next sweep.
        if not await self._pending(coll, doc):
            return 0
        result = await self.relay_by_id(coll, doc["_id"])
        if result is None:
            self._notified.append(doc["_id"])
            asyncio.get_running_loop().call_later(_BUSY_RETRY_S, self.wake)
            return 0
        return result

    async def _preload_markers(self) -> None:
        # The first sweep after start-up meets every entry ever written (entries stay in their
        # documents as history): one read of the marker collection replaces one lookup per
        # entry (two per credential). Entries beyond the remembered bound are looked up by id.
        (collection,) = self._collections
        async for marker in self._published(collection).find({}, {"_id": 1}):
            self._remember(str(marker["_id"]))

    async def _candidates(self, coll: OutboxCollection) -> AsyncIterator[Any]:
        # Once per sweep interval: every document with an outbox, for entries whose writer died
        # before notifying.
        if self._sweeping:
            async for doc in super()._candidates(coll):
                yield doc


class RelayPool:
    """Spread a collection's documents over several targeted relays by a stable hash of the id.

    A relay handles one document at a time (its events go out concurrently, in per-key order:
    ``sceau_shared.outbox.waves``), so several relays let several documents' round trips to
    Kafka and MongoDB overlap, while each document stays with one relay.
    """

    def __init__(
        self,
        collection: OutboxCollection,
        publisher: EventPublisher,
        *,
        size: int,
        sweep_interval_s: float | None,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self.relays = [
            TargetedOutboxRelay(
                collection,
                publisher,
                sweep_interval_s=sweep_interval_s,
                sweeps=n == 0,
                tracer_provider=tracer_provider,
            )
            for n in range(size)
        ]

    def notify(self, document_id: str) -> None:
        """Remind a document's relay of it (:meth:`TargetedOutboxRelay.notify`)."""
        self._relay_of(document_id).notify(document_id)

    def notify_written(self, document_id: str, entries: list[dict[str, Any]]) -> None:
        """Hand a document's just-written entries to its relay, to publish from memory.

        Only for entries the caller has just written and nobody can have published (see
        :meth:`TargetedOutboxRelay.notify_written`): a batch chunk just recorded.
        """
        self._relay_of(document_id).notify_written(document_id, entries)

    def _relay_of(self, document_id: str) -> TargetedOutboxRelay:
        return self.relays[zlib.crc32(document_id.encode()) % len(self.relays)]


@dataclass(frozen=True)
class IssuerRelays:
    """The issuer's outbox relays, and which one a write wakes.

    Wake-ups are targeted: on FerretDB every poll of the small relays reads their whole
    collections, so a batch chunk must not make the credentials relay (or the others) look.
    """

    small: Sequence[OutboxRelay]
    """Relays of the small collections (institutions, status lists), relayed often."""
    credentials: TargetedOutboxRelay
    """The ``credentials`` relay: notified by id, otherwise it only sweeps rarely."""
    chunks: RelayPool
    """The ``batch_chunks`` relays: each chunk goes to one of them."""
    receipts: TargetedOutboxRelay
    """Share receipts (the learner's "your link was opened" e-mail): told of each insert."""
    messages: TargetedOutboxRelay
    """Learner e-mail requests: told of each insert."""

    @property
    def all(self) -> list[OutboxRelay]:
        """Every relay (each runs its own loop)."""
        return [*self.small, self.credentials, *self.chunks.relays, self.receipts, self.messages]

    def written(self, kind: str, document_id: str, entries: list[dict[str, Any]]) -> None:
        """A learner ``receipt`` or ``message`` was just inserted with these outbox entries.

        Receipts and messages grow with use (every share opening, every e-mail): they are
        relayed from memory and found after a crash through their pending markers, never by
        polling the collections (a poll on FerretDB reads every document each time).
        """
        relay = self.receipts if kind == "receipt" else self.messages
        relay.notify_written(document_id, entries)

    def wake_small(self) -> None:
        """Something was written to an institution's or a status list's outbox."""
        for relay in self.small:
            relay.wake()

    def stored(
        self,
        kind: str,
        document_id: str | None = None,
        *,
        entries: list[dict[str, Any]] | None = None,
    ) -> None:
        """A credential (``kind="credential"``) or a batch chunk received outbox entries.

        ``entries``: all of them, just written by the caller (published from memory,
        :meth:`TargetedOutboxRelay.notify_written`); without them, a reminder
        (:meth:`TargetedOutboxRelay.notify`).
        """
        if document_id is None:
            self.wake_small()
            return
        relay = self.credentials if kind == "credential" else self.chunks
        if entries is None:
            relay.notify(document_id)
        else:
            relay.notify_written(document_id, entries)

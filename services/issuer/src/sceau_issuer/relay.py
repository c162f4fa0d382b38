"""An outbox relay that finds pending documents by id instead of by scanning.

``sceau_shared.outbox.OutboxRelay`` looks at every document that has outbox entries; MongoDB
answers that from an index, but FerretDB 1.24 (SQLite) scans and parses every document of the
collection — measured 1.8 s per look with 3,000 credentials — and entries stay in their documents
as history, so the set only grows. For ``credentials`` and ``batch_chunks`` this relay is told
which documents just received events (``notify``) and reads exactly those, by primary key. A
full sweep (the base class's query) runs at start-up, and every ``sweep_interval_s`` when one is
set, so entries written by a process that died before relaying them are never lost: the process
that replaces it (or any other that starts) finds them. The sweep reads every document of the
collection, so by default it is not repeated while the process runs (issue 19: at 250,000
credentials a periodic sweep held a cursor for minutes, during which FerretDB's SQLite log could
not be checkpointed and every lookup slowed down).
"""

from __future__ import annotations

import asyncio
import time
import zlib
from collections import deque
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry.trace import TracerProvider

from sceau_shared.kafka import EventPublisher
from sceau_shared.outbox import OutboxRelay, waves

_BUSY_RETRY_S = 1.0
#: Publications of written entries sent together at most (as the shared relay does per wave).
_IN_FLIGHT = 256

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
        poll = sweep_interval_s if sweep_interval_s is not None else 3600.0
        super().__init__(
            [collection],
            publisher,
            poll_interval_s=poll,
            lease_s=lease_s,
            tracer_provider=tracer_provider,
        )
        self._notified: deque[Any] = deque()
        # Documents just inserted with these entries (grouped single issues): published from
        # memory, marked with one insert for the whole group, never read back.
        self._written: list[tuple[Any, list[dict[str, Any]]]] = []
        self._lease_notified = lease_notified
        self._sweep_interval_s = sweep_interval_s
        # Sweep at start-up (then every interval, when one is set); a relay with ``sweeps=False``
        # never sweeps (another one of its pool does).
        self._next_sweep = 0.0 if sweeps else float("inf")
        # The start-up sweep skips documents still leased by a process that died; a second one,
        # once such a lease has run out, picks them up.
        self._startup_sweeps_left = 2
        self._lease_s = lease_s
        self._sweeping = False

    def _after_sweep(self) -> float:
        """Seconds until the next sweep: the second start-up sweep, the interval, or never."""
        self._startup_sweeps_left -= 1
        if self._startup_sweeps_left > 0:
            return self._lease_s + 5.0
        if self._sweep_interval_s is not None:
            return self._sweep_interval_s
        return float("inf")

    def notify(self, document_id: Any) -> None:
        """A document of the collection just received outbox entries: relay it soon."""
        self._notified.append(document_id)
        self.wake()

    def notify_written(self, document_id: Any, entries: list[dict[str, Any]]) -> None:
        """A document was just *inserted* with these outbox entries: publish them from memory.

        Only for a new document (nothing else can have written to its outbox yet): the relay
        publishes the entries of every document written since its last look together and
        records them with one marker insert, instead of reading each document back and
        marking it apart (two commands per credential; ~6 ms of FerretDB's CPU).
        """
        self._written.append((document_id, entries))
        self.wake()

    async def drain_once(self) -> int:
        """Relay notified documents; once per sweep interval, also scan for forgotten ones."""
        sent = await self.relay_written()
        sent += await self._drain_notified()
        self.published += sent
        self._sweeping = time.monotonic() >= self._next_sweep
        if self._sweeping and not self._recovered:
            await self._preload_markers()
        try:
            return sent + await super().drain_once()
        finally:
            if self._sweeping:
                self._next_sweep = time.monotonic() + self._after_sweep()
            self._sweeping = False

    async def relay_written(self) -> int:
        """Publish the entries handed over by :meth:`notify_written`; return how many."""
        (collection,) = self._collections
        sent = 0
        while self._written:
            taken, self._written = self._written, []
            entries = [
                entry
                for _, written in taken
                for entry in written
                if str(entry.get("event_id")) not in self._done
            ]
            try:
                for wave in waves(entries):
                    for start in range(0, len(wave), _IN_FLIGHT):
                        sent += await self._publish_together(
                            collection, wave[start : start + _IN_FLIGHT]
                        )
            except BaseException:
                # Read back by id at the retry (what was published is marked and skipped).
                self._notified.extend(document_id for document_id, _ in taken)
                raise
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
                # Notified documents hold entries this process just wrote: after the first
                # full pass, memory alone says which are new (no marker lookup on the hot path).
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
        """Hand a document that just received events to its relay."""
        self.relays[zlib.crc32(document_id.encode()) % len(self.relays)].notify(document_id)


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

    @property
    def all(self) -> list[OutboxRelay]:
        """Every relay (each runs its own loop)."""
        return [*self.small, self.credentials, *self.chunks.relays]

    def wake_small(self) -> None:
        """Something was written to an institution's or a status list's outbox."""
        for relay in self.small:
            relay.wake()

    def stored(self, kind: str, document_id: str | None = None) -> None:
        """A credential (``kind="credential"``) or a batch chunk received outbox entries."""
        if document_id is None:
            self.wake_small()
        elif kind == "credential":
            self.credentials.notify(document_id)
        else:
            self.chunks.notify(document_id)

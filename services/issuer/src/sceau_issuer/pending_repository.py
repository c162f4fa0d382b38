"""Pending-outbox markers: which documents may hold events that are not published yet.

A credential or a batch chunk carries its events in its own ``outbox`` (written with the
document, ``sceau_shared.outbox``); the entries stay there as history. To find the entries a
process wrote but died before publishing, the relays used to read every document with an
outbox at start-up: 345 s at 250,000 credentials on FerretDB (issue 19). Instead, every write
that adds outbox entries to one of these collections first inserts a small marker here —
*before* the document write, so a crash between the two leaves a marker and never an unmarked
entry — and the relay deletes the marker once the entries are published. A sweep then reads
this collection, whose size is the unpublished work (a second's worth of writes, plus what a
dead process left), not the credentials.

The marker is also the record of publication for entries published from memory (the writer
handed them to the relay): the relay deletes it as soon as the broker acknowledged them,
instead of writing one ``outbox_published`` document per event (500 per batch chunk). A
reminder about a document (a retried request, a resumed batch) therefore first asks whether
the document has a marker at all (:func:`has_pending`).

Markers are keyed by the collection and the first event id of the write (unique), so two writes
to one document have two markers and deleting one never hides the other. A marker whose document
never appeared (the writer died before writing it) is dropped by the sweep once it is old.

A write of several new documents at once (a group of single issues) has one marker for all of
them (``docs``: their ids; :func:`mark_together`) instead of one each: FerretDB runs each
statement of a delete as its own query, and the 16 statements that cleared a group's markers cost
it 2.8 ms of CPU against 0.5 ms for one (0.75 against 0.4 ms for the insert; issue 19). Its key
(:func:`group_marker_id`) is never that of a single document's write, so only the relay that
published every document of the group, or the sweep that relayed them all, deletes it.

``outbox_sweeps`` records, per collection, that the one full sweep of documents written before
the markers existed was done (``sceau_issuer.relay``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import BulkWriteError, DuplicateKeyError

from sceau_shared.events import utcnow

PENDING_COLLECTION = "outbox_pending"
SWEPT_COLLECTION = "outbox_sweeps"
_DUPLICATE_KEY = 11000

Document = dict[str, Any]


def marker_id(collection_name: str, first_event_id: str) -> str:
    """The ``_id`` of the marker of a write whose first outbox entry has this event id."""
    return f"{collection_name}|{first_event_id}"


def group_marker_id(collection_name: str, first_event_id: str) -> str:
    """The ``_id`` of the marker of a write of several documents (:func:`mark_together`).

    ``first_event_id``: the first outbox entry of the write's first document. Distinct from
    :func:`marker_id` of that same event: a relay that republishes one document of the group
    (read back after a failure) deletes that document's own marker id, never the group's.
    """
    return f"{collection_name}|group|{first_event_id}"


def _pending(collection: AsyncCollection[Document]) -> AsyncCollection[Document]:
    return collection.database[PENDING_COLLECTION]


async def mark_pending(
    collection: AsyncCollection[Document],
    written: Sequence[tuple[Any, Sequence[dict[str, Any]]]],
    *,
    at: datetime | None = None,
) -> None:
    """Record that these documents are about to receive these outbox entries (one insert).

    Call it before the write itself. ``written``: ``(document id, outbox entries)`` per document;
    documents without entries need no marker.
    """
    when = at or utcnow()
    markers = [
        {
            "_id": marker_id(collection.name, str(entries[0]["event_id"])),
            "collection": collection.name,
            "doc": doc_id,
            "at": when,
        }
        for doc_id, entries in written
        if entries
    ]
    if not markers:
        return
    try:
        await _pending(collection).insert_many(markers, ordered=False)
    except BulkWriteError as exc:
        # A retried write with the same events finds its marker there already.
        if any(e.get("code") != _DUPLICATE_KEY for e in exc.details.get("writeErrors", [])):
            raise


async def mark_together(
    collection: AsyncCollection[Document],
    written: Sequence[tuple[Any, Sequence[dict[str, Any]]]],
    *,
    at: datetime | None = None,
) -> str | None:
    """Record, with one marker, that these documents are about to receive these entries.

    Call it before the write itself; returns the marker's ``_id`` (:func:`group_marker_id`), or
    ``None`` when no document has entries (no marker). Only for documents written together and
    handed to the relay together (``TargetedOutboxRelay.notify_written_together``), which deletes
    the marker once every one of them is published.
    """
    docs = [doc_id for doc_id, entries in written if entries]
    if not docs:
        return None
    first = next(entries for _, entries in written if entries)
    marker = group_marker_id(collection.name, str(first[0]["event_id"]))
    document = {"_id": marker, "collection": collection.name, "docs": docs, "at": at or utcnow()}
    # A retried write with the same events finds its marker there already.
    with contextlib.suppress(DuplicateKeyError):
        await _pending(collection).insert_one(document)
    return marker


def marked_documents(marker: Document) -> list[Any]:
    """The ids of the documents a marker covers (one, or a group's)."""
    if "docs" in marker:
        return list(marker["docs"])
    return [marker["doc"]]


async def pending_markers(collection: AsyncCollection[Document]) -> list[Document]:
    """Every marker of one collection (a read of the small marker collection)."""
    cursor = _pending(collection).find({"collection": collection.name})
    return [marker async for marker in cursor]


async def has_pending(collection: AsyncCollection[Document], doc_id: Any) -> bool:
    """Whether a write to this document still has its marker (its entries may be unpublished).

    A read of the small marker collection (bounded by the unpublished work; FerretDB reads it
    whole, MongoDB too without an index, which a few hundred markers do not need). No marker
    means every write to the document was published, or predates the markers (the legacy sweep's
    concern): a reminder about it has nothing to do and reads nothing else.
    """
    found = await _pending(collection).find_one(
        {"collection": collection.name, "$or": [{"doc": doc_id}, {"docs": doc_id}]}, {"_id": 1}
    )
    return found is not None


async def clear_pending(collection: AsyncCollection[Document], ids: Sequence[str]) -> None:
    """Delete these markers: one command, each statement by ``_id``."""
    if not ids:
        return
    await collection.database.command(
        {
            "delete": PENDING_COLLECTION,
            "deletes": [{"q": {"_id": marker}, "limit": 1} for marker in ids],
            "ordered": False,
        }
    )


async def legacy_swept(collection: AsyncCollection[Document]) -> bool:
    """Whether the one full sweep of this collection's pre-marker documents was done."""
    found = await collection.database[SWEPT_COLLECTION].find_one({"_id": collection.name})
    return found is not None


async def needs_legacy_sweep(collection: AsyncCollection[Document]) -> bool:
    """Whether this collection may still hold documents written before the markers.

    Not when the full sweep was recorded, nor when the collection holds no document at all: a
    new database has nothing from before the markers, so its record is written at once (the
    first process of a database might otherwise live less than the two sweeps take, and every
    later start-up would read the whole collection: 465 s at 250,000 credentials on FerretDB,
    overlapping the work of the restarted process; issue 19). A document written afterwards
    by a process of a version without markers (a rolling upgrade onto an empty database) is
    not looked for.
    """
    if await legacy_swept(collection):
        return False
    # One document at most, by the natural order: no filter for the server to evaluate.
    if await collection.find_one({}, {"_id": 1}) is None:
        await record_legacy_swept(collection)
        return False
    return True


async def record_legacy_swept(collection: AsyncCollection[Document]) -> None:
    """Remember that the full sweep was done (sweeps read only the markers from now on)."""
    await collection.database[SWEPT_COLLECTION].update_one(
        {"_id": collection.name}, {"$set": {"at": utcnow()}}, upsert=True
    )

"""Accepted work is never lost, and finding it costs the unpublished work, not the data (issue 19).

Every write of outbox entries to ``credentials`` (and ``batch_chunks``) first inserts a pending
marker (``sceau_issuer.pending_repository``); the relay deletes it once the entries are
published, and its sweeps read the markers instead of every credential. These tests write the
way the issuer does, "crash" before relaying (no relay is told), and check that a relay started
afterwards publishes exactly the unpublished events, once, and clears the markers; that a young
marker (a live writer's) is left alone; that a marker without its document is dropped; that a
database written before the markers is read whole once, then never again; and that a new one
never is. Real MongoDB-protocol server; a publisher that counts instead of a broker.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import sceau_issuer.relay as relay_module
from sceau_dev.testing.hot_queries import is_ferret
from sceau_dev.testing.sample_events import revocation
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.learners.repository import (
    CONSENTS,
    CONTACTS,
    MESSAGES,
    RECEIPTS,
    SHARES,
    LearnerRepository,
)
from sceau_issuer.pending_repository import (
    PENDING_COLLECTION,
    SWEPT_COLLECTION,
    has_pending,
    mark_pending,
    marked_documents,
    needs_legacy_sweep,
    record_legacy_swept,
)
from sceau_issuer.relay import TargetedOutboxRelay
from sceau_shared.events import CredentialStatusChangedV1, utcnow
from sceau_shared.outbox import PUBLISHED_COLLECTION, outbox_entry, outbox_push
from sceau_shared.settings import MongoSettings

pytestmark = pytest.mark.integration


class Counting:
    """Stands in for the event publisher: counts what is sent."""

    producer = "test"

    def __init__(self) -> None:
        self.sent: Counter[str] = Counter()

    async def publish_raw(self, **entry: Any) -> None:
        self.sent[str(entry["event_id"])] += 1


class Refusing(Counting):
    """A publisher whose broker refuses the first ``times`` events it is sent."""

    def __init__(self, times: int) -> None:
        super().__init__()
        self.refusals = times

    async def publish_raw(self, **entry: Any) -> None:
        if self.refusals > 0:
            self.refusals -= 1
            raise ConnectionError("the broker went away")
        await super().publish_raw(**entry)


def event(n: int) -> CredentialStatusChangedV1:
    return revocation(f"cred-{n}", reason_code=f"r{n}")


def relay(coll: Any, publisher: Counting, *, lease_s: float = 0.0) -> TargetedOutboxRelay:
    return TargetedOutboxRelay(
        coll,
        publisher,  # type: ignore[arg-type]
        sweep_interval_s=0.001,
        lease_s=lease_s,
        lease_notified=False,
    )


def credential(doc_id: str) -> dict[str, Any]:
    return {"_id": doc_id, "institution_id": "inst", "status": "active", "idem": doc_id}


@pytest.fixture
async def coll(mongo_client: Any, mongo_settings: MongoSettings) -> Any:
    collection = mongo_client[mongo_settings.database]["credentials"]
    await record_legacy_swept(collection)  # a database written with the markers
    return collection


async def pending(coll: Any) -> list[str]:
    """The documents the pending markers cover (one per marker, or a group's)."""
    found = [m async for m in coll.database[PENDING_COLLECTION].find({})]
    return [document for marker in found for document in marked_documents(marker)]


async def markers(coll: Any) -> int:
    return await coll.database[PENDING_COLLECTION].count_documents({})


async def stored(
    coll: Any, doc_id: str, *numbers: int
) -> tuple[list[CredentialStatusChangedV1], list[dict[str, Any]]]:
    """A credential inserted as the issuer does (marker first), with the entries it returned."""
    issued = [event(n) for n in numbers]
    entries = await CredentialRepository(coll).insert(credential(doc_id), issued)
    assert entries is not None
    return issued, entries


async def test_a_credential_stored_but_never_relayed_is_published_by_the_next_process(
    coll: Any,
) -> None:
    repo = CredentialRepository(coll)
    issued = [event(1), event(2)]
    assert await repo.insert(credential("c1"), issued)  # the writer dies before relaying
    assert await pending(coll) == ["c1"]
    publisher = Counting()
    await relay(coll, publisher).drain_once()  # the process that replaces it
    assert publisher.sent == Counter({str(e.event_id): 1 for e in issued})
    assert await pending(coll) == []


async def test_a_status_change_never_relayed_is_published_alone(coll: Any) -> None:
    repo = CredentialRepository(coll)
    issued = [event(1)]
    await repo.insert(credential("c2"), issued)
    publisher = Counting()
    first = relay(coll, publisher)
    first.notify("c2")
    await first.drain_once()  # relayed and marked published
    changed = event(3)
    assert await repo.change_status(
        "inst", "c2", from_states=["active"], values={"status": "revoked"}, events=[changed]
    )  # ... and this process dies before relaying the change
    await relay(coll, publisher).drain_once()
    assert publisher.sent == Counter({str(issued[0].event_id): 1, str(changed.event_id): 1})
    assert await pending(coll) == []


def grouped(prefix: str, first: int, count: int) -> list[dict[str, Any]]:
    """Credentials of one group, each with its outbox entry (as the group commit drafts them)."""
    return [
        {**credential(f"{prefix}{n}"), "outbox": [outbox_entry(event(first + n))]}
        for n in range(count)
    ]


async def test_grouped_credentials_have_one_marker_deleted_once_all_are_published(
    coll: Any,
) -> None:
    # Issue 19: one marker per credential cost FerretDB a statement each to delete (2.8 ms of
    # CPU per group of 16, against 0.5 ms for one marker).
    repo = CredentialRepository(coll)
    docs = grouped("g", 10, 3)
    marker = await repo.mark_group(docs)  # while the group is signed
    assert marker is not None
    assert await markers(coll) == 1
    assert sorted(await pending(coll)) == ["g0", "g1", "g2"]
    assert all([await has_pending(coll, doc["_id"]) for doc in docs])
    assert await repo.insert_many(docs, marked=True) == set()
    publisher = Counting()
    live = relay(coll, publisher, lease_s=60.0)
    live.notify_written_together(marker, [(doc["_id"], doc["outbox"]) for doc in docs])
    await live.drain_once()
    assert publisher.sent == Counter({str(d["outbox"][0]["event_id"]): 1 for d in docs})
    assert await markers(coll) == 0
    assert not any([await has_pending(coll, doc["_id"]) for doc in docs])


async def test_a_group_never_relayed_is_published_by_the_next_process(coll: Any) -> None:
    # The writer died after the insert and before relaying; the third credential of the group
    # was never stored (its signature failed): the sweep publishes the two, once, and drops
    # the marker.
    repo = CredentialRepository(coll)
    docs = grouped("h", 40, 3)
    await repo.mark_group(docs)
    assert await repo.insert_many(docs[:2], marked=True) == set()
    publisher = Counting()
    await relay(coll, publisher).drain_once()  # the process that replaces it
    assert publisher.sent == Counter({str(d["outbox"][0]["event_id"]): 1 for d in docs[:2]})
    assert await markers(coll) == 0


async def test_a_group_whose_publication_failed_keeps_its_marker_until_all_are_out(
    coll: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The broker refused the group's events: they are read back and published one by one at
    # the retry, which never deletes the group's marker (republishing its first credential
    # alone must not clear the others'); the sweep then finds them all published in this
    # process and only drops the marker.
    repo = CredentialRepository(coll)
    docs = grouped("k", 50, 3)
    marker = await repo.mark_group(docs)
    assert await repo.insert_many(docs, marked=True) == set()
    monkeypatch.setattr(relay_module, "_CLEAR_AFTER_S", 0.0)  # published markers go at once
    publisher = Refusing(times=1)
    live = relay(coll, publisher, lease_s=60.0)
    live.notify_written_together(marker, [(doc["_id"], doc["outbox"]) for doc in docs])
    with pytest.raises(ConnectionError):
        await live.drain_once()
    await live.drain_once()  # the retry: read back by id
    assert publisher.sent == Counter({str(d["outbox"][0]["event_id"]): 1 for d in docs})
    assert await markers(coll) == 1  # left to the sweep
    live._lease_s = 0.0
    await live.sweep_pending()
    assert publisher.sent == Counter({str(d["outbox"][0]["event_id"]): 1 for d in docs})
    assert await markers(coll) == 0


async def test_a_credential_issued_alone_is_published_from_memory_never_read_back(
    coll: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A credential just inserted holds only the entries its writer wrote a moment ago: the insert
    # hands them over, and the relay neither reads the credential back nor looks each entry up
    # among the published markers (which cannot hold them).
    repo = CredentialRepository(coll)
    issued = [event(20), event(21)]
    entries = await repo.insert(credential("f1"), issued)
    assert entries is not None
    assert await repo.insert(credential("f1"), issued) is None  # the same credential again
    publisher = Counting()
    live = relay(coll, publisher, lease_s=60.0)

    async def never(*_: Any, **__: Any) -> None:
        raise AssertionError("read back or looked up")

    monkeypatch.setattr(live, "_publish_pending", never)
    monkeypatch.setattr(live, "_recall", never)
    live.notify_written("f1", entries)
    await live.drain_once()
    assert publisher.sent == Counter({str(e.event_id): 1 for e in issued})
    assert await pending(coll) == []


async def test_a_recorded_chunk_is_published_from_memory_never_read_back(
    mongo_client: Any, mongo_settings: MongoSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A batch chunk's outbox holds ~1 KB per event (500 events for 250 credentials): the worker
    # that recorded it hands the entries over instead of having the relay read the chunk back.
    chunks = mongo_client[mongo_settings.database]["batch_chunks"]
    await record_legacy_swept(chunks)
    entries = [outbox_entry(event(30 + n)) for n in range(4)]
    await mark_pending(chunks, [("b:00000", entries)])
    await chunks.insert_one({"_id": "b:00000", "state": "done", "outbox": entries})
    publisher = Counting()
    pool = relay_module.RelayPool(chunks, publisher, size=2, sweep_interval_s=3600.0)  # type: ignore[arg-type]

    async def never(*_: Any, **__: Any) -> int:
        raise AssertionError("the chunk was read back")

    for one in pool.relays:
        monkeypatch.setattr(one, "_publish_pending", never)
    pool.notify_written("b:00000", entries)
    for one in pool.relays:
        one._next_sweep = float("inf")  # only the handed-over entries
        await one.drain_once()
    assert publisher.sent == Counter({str(e["event_id"]): 1 for e in entries})
    assert await pending(chunks) == []


async def test_a_reminder_skips_what_another_process_already_published(
    coll: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A resumed batch, or a retried request, reminds the relay of a document an earlier run may
    # have relayed: the document has no pending marker left, so it is not even read.
    _issued, entries = await stored(coll, "f2", 22, 23)
    publisher = Counting()
    earlier = relay(coll, publisher)
    earlier.notify_written("f2", entries)
    await earlier.drain_once()
    again = Counting()
    later = relay(coll, again, lease_s=60.0)

    async def never(*_: Any, **__: Any) -> None:
        raise AssertionError("a published document was read back")

    monkeypatch.setattr(later, "_publish_pending", never)
    later.notify("f2")
    await later.drain_once()
    assert len(publisher.sent) == 2
    assert again.sent == Counter()


async def test_entries_published_from_memory_leave_no_marker_behind(coll: Any) -> None:
    # Their publication is recorded by deleting the write's pending marker at once: no
    # published marker per event (the collection grew by two per credential ever issued).
    issued, entries = await stored(coll, "f3", 24, 25)
    publisher = Counting()
    live = relay(coll, publisher, lease_s=60.0)
    live.notify_written("f3", entries)
    await live.drain_once()
    assert publisher.sent == Counter({str(e.event_id): 1 for e in issued})
    assert await pending(coll) == []
    published = coll.database[PUBLISHED_COLLECTION]
    assert await published.count_documents({"_id": {"$in": [str(e.event_id) for e in issued]}}) == 0


async def test_a_reminder_of_a_marked_document_publishes_what_its_writer_did_not(
    coll: Any,
) -> None:
    # A write whose outcome its writer does not know (the insert met an outage, issue 18): its
    # marker is there, so the reminder reads the credential back and publishes it once.
    repo = CredentialRepository(coll)
    issued = [event(26)]
    assert await repo.insert(credential("f4"), issued)  # the relay is never handed the entries
    publisher = Counting()
    live = relay(coll, publisher, lease_s=60.0)
    live.notify("f4")
    await live.drain_once()
    assert publisher.sent == Counter({str(issued[0].event_id): 1})


async def test_a_crash_before_the_marker_is_deleted_publishes_the_same_events_again(
    coll: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # At least once: the broker acknowledged the events, then the marker's deletion failed (the
    # process died there). The next process publishes them again with the same event ids,
    # which consumers deduplicate; then the marker is gone.
    issued, entries = await stored(coll, "f5", 27, 28)
    publisher = Counting()
    dying = relay(coll, publisher, lease_s=60.0)

    async def outage(*_: Any, **__: Any) -> None:
        raise ConnectionError("the database went away")

    monkeypatch.setattr(relay_module, "clear_pending", outage)
    dying.notify_written("f5", entries)
    with pytest.raises(ConnectionError):
        await dying.drain_once()
    monkeypatch.undo()
    assert await pending(coll) == ["f5"]
    await relay(coll, publisher).drain_once()  # the next process's sweep (the lease is over)
    assert publisher.sent == Counter({str(e.event_id): 2 for e in issued})
    assert await pending(coll) == []


async def test_a_young_marker_belongs_to_a_live_writer_and_is_left_alone(coll: Any) -> None:
    await CredentialRepository(coll).insert(credential("c4"), [event(4)])
    publisher = Counting()
    await relay(coll, publisher, lease_s=60.0).drain_once()
    assert publisher.sent == Counter()
    assert await pending(coll) == ["c4"]


async def test_a_marker_whose_document_never_came_is_dropped(coll: Any) -> None:
    await mark_pending(coll, [("ghost", [outbox_entry(event(5))])], at=utcnow())
    publisher = Counting()
    await relay(coll, publisher).drain_once()
    assert publisher.sent == Counter()
    assert await pending(coll) == []


async def test_sweeps_read_the_markers_not_the_credentials(coll: Any) -> None:
    # A document with unpublished entries but no marker is invisible to a marker sweep: the
    # sweep's cost is the marked work (writers always mark first, so nothing real is missed).
    await coll.update_one(
        {"_id": "unmarked"}, {"$set": {"v": 1}} | outbox_push(event(6)), upsert=True
    )
    publisher = Counting()
    await relay(coll, publisher).drain_once()
    assert publisher.sent == Counter()


async def test_a_database_written_before_the_markers_is_read_whole_once(
    mongo_client: Any, mongo_settings: MongoSettings
) -> None:
    coll = mongo_client[mongo_settings.database]["credentials"]
    old = event(7)
    await coll.update_one({"_id": "old"}, {"$set": {"v": 1}} | outbox_push(old), upsert=True)
    publisher = Counting()
    upgraded = relay(coll, publisher)
    await upgraded.drain_once()  # the full sweep of a database without the record
    assert publisher.sent == Counter({str(old.event_id): 1})
    assert await coll.database[SWEPT_COLLECTION].find_one({"_id": "credentials"}) is None
    upgraded._next_sweep = 0.0  # the second one (after a dead process's lease)
    await upgraded.drain_once()
    assert await coll.database[SWEPT_COLLECTION].find_one({"_id": "credentials"}) is not None
    # From now on no process reads the whole collection: an unmarked old entry stays unread.
    later = event(8)
    await coll.update_one({"_id": "old2"}, {"$set": {"v": 1}} | outbox_push(later), upsert=True)
    await relay(coll, publisher).drain_once()
    assert publisher.sent == Counter({str(old.event_id): 1})


async def test_a_new_database_is_never_read_whole(
    mongo_client: Any, mongo_settings: MongoSettings
) -> None:
    # Its first process finds the collection empty: nothing can be older than the markers, so
    # the record is written at once, however briefly that process lives (no second full sweep
    # is waited for), and no later start-up reads the credentials.
    coll = mongo_client[mongo_settings.database]["credentials"]
    publisher = Counting()
    await relay(coll, publisher).drain_once()
    assert await coll.database[SWEPT_COLLECTION].find_one({"_id": "credentials"}) is not None
    unmarked = event(9)
    await coll.update_one({"_id": "new"}, {"$set": {"v": 1}} | outbox_push(unmarked), upsert=True)
    await relay(coll, publisher).drain_once()  # the next process: the markers only
    assert publisher.sent == Counter()


async def test_the_emptiness_check_reads_one_document_at_most(
    mongo_client: Any, mongo_settings: MongoSettings
) -> None:
    # An old database's first look must not read every credential just to find one: FerretDB
    # pushes the limit down to SQLite (its plan is a scan that stops at the first row), MongoDB
    # answers with a limited collection scan.
    db = mongo_client[mongo_settings.database]
    await db["credentials"].insert_many([credential(f"c{n}") for n in range(3)])
    plan = await db.command(
        "explain",
        {"find": "credentials", "filter": {}, "projection": {"_id": 1}, "limit": 1},
        verbosity="queryPlanner",
    )
    if await is_ferret(mongo_client):
        assert plan["limitPushdown"] is True, plan
    else:
        winning = str(plan["queryPlanner"]["winningPlan"])
        assert "LIMIT" in winning or "limitAmount" in winning, plan
    assert await needs_legacy_sweep(db["credentials"])


async def test_learner_receipts_and_messages_are_found_by_their_markers_not_by_polling(
    mongo_client: Any, mongo_settings: MongoSettings
) -> None:
    """Share receipts and learner e-mails grow with use: relayed like credentials (issue 19).

    They used to be polled every half second with the small collections (a read of every
    receipt and message each time on FerretDB). Now each insert is handed to its relay; one
    written by a process that died before relaying is found by the next process's marker sweep.
    """
    db = mongo_client[mongo_settings.database]
    receipts, messages = db[RECEIPTS], db[MESSAGES]
    for collection in (receipts, messages):
        await record_legacy_swept(collection)
    repo = LearnerRepository(
        db[CONSENTS],
        db[SHARES],
        receipts,
        messages,
        db[CONTACTS],
        share_refs=db["share_refs"],
        share_openings=db["share_openings"],
    )
    mail, opening = event(20), event(21)
    written = await repo.add_message("m1", "issued", utcnow(), mail)
    assert [e["event_id"] for e in written] == [str(mail.event_id)]
    assert await repo.add_receipt("e1", "s1", utcnow(), [opening])
    assert await repo.add_receipt("e1", "s1", utcnow(), [opening]) is None  # redelivered
    assert await repo.add_receipt("e2", "s1", utcnow(), []) == []  # nothing to send: no marker
    assert sorted(await pending(receipts)) == ["e1", "m1"]  # one marker collection for all
    publisher = Counting()
    for collection in (receipts, messages):  # the next process's relays
        await relay(collection, publisher).drain_once()
    assert publisher.sent == Counter({str(mail.event_id): 1, str(opening.event_id): 1})
    assert await pending(receipts) == []
    # An unmarked document (as a poll used to find) is not read by the sweep.
    await messages.update_one(
        {"_id": "unmarked"}, {"$set": {"v": 1}} | outbox_push(event(22)), upsert=True
    )
    await relay(messages, publisher).drain_once()
    assert len(publisher.sent) == 2

"""The numbered status change log: a re-sign reads only the changes since the previous one.

Real MongoDB-protocol server; the issuer's graph is built without its background loops so the
publisher's reading is observed directly (issue 19: the cost of a re-sign must follow the changes,
not the size of the list or of the log).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from sceau_issuer.graph import IssuerGraph, build_graph
from sceau_issuer.settings import SERVICE_NAME, IssuerSettings
from sceau_shared.events import StatusListPublishedV1, StatusPurpose
from sceau_shared.runtime import open_connections

pytestmark = pytest.mark.integration

ALLOC = "fam/0"


@pytest.fixture
async def graph(settings: IssuerSettings) -> AsyncIterator[IssuerGraph]:
    async with open_connections(SERVICE_NAME, settings) as runtime:
        built = await build_graph(settings, runtime)
        try:
            yield built
        finally:
            await built.close()


@pytest.fixture
def db(settings: IssuerSettings, mongo_client: AsyncMongoClient[dict[str, Any]]) -> Any:
    return mongo_client[settings.mongo.database]


class CountingReads:
    """Counts the publisher's primary-key reads of credentials."""

    def __init__(self, graph: IssuerGraph) -> None:
        self.ids: list[str] = []
        repository = graph.repositories.credentials
        original = repository.status_of

        async def status_of(credential_id: str) -> dict[str, Any] | None:
            self.ids.append(credential_id)
            return await original(credential_id)

        repository.status_of = status_of  # type: ignore[method-assign]


async def _credential(db: Any, cid: str, index: int) -> None:
    await db["credentials"].insert_one(
        {
            "_id": cid,
            "institution_id": "t",
            "status_alloc": ALLOC,
            "status_index": index,
            "status": "active",
            "status_changed_at": None,
        }
    )


async def _change(graph: IssuerGraph, db: Any, cid: str, status: str, *, land: bool = True) -> None:
    """What the status service does: log first, then update the credential."""
    at = datetime.now(UTC).replace(microsecond=0) + timedelta(milliseconds=1)
    await graph.repositories.status_changes.record(ALLOC, cid, at)
    if land:
        await db["credentials"].update_one(
            {"_id": cid}, {"$set": {"status": status, "status_changed_at": at}}
        )


def _list(**fields: Any) -> dict[str, Any]:
    """A list document as the publisher reads it (position and flags of the last re-sign)."""
    return {"_id": ALLOC, "log_next": 0, "flags": {}, **fields}


async def test_each_resign_reads_only_the_changes_since_the_previous_one(
    graph: IssuerGraph, db: Any
) -> None:
    for n in range(6):
        await _credential(db, f"c{n}", 100 + n)
    reads = CountingReads(graph)
    publisher = graph.publisher
    now = datetime.now(UTC) + timedelta(seconds=1)

    await _change(graph, db, "c0", "revoked")
    await _change(graph, db, "c1", "suspended")
    flags, position = await publisher.flags_of(_list(), now)
    assert flags == {"revocation": {100}, "suspension": {101}}
    assert position == 2
    assert sorted(reads.ids) == ["c0", "c1"]

    # The next re-sign starts from the stored flags and position: one new change, one read.
    reads.ids.clear()
    await _change(graph, db, "c1", "active")  # reinstated
    await _change(graph, db, "c2", "revoked")
    stored = _list(log_next=position, flags={k: sorted(v) for k, v in flags.items()})
    flags, position = await publisher.flags_of(stored, now)
    assert flags == {"revocation": {100, 102}, "suspension": set()}
    assert position == 4
    assert sorted(reads.ids) == ["c1", "c2"]
    # Entries are numbered per list from 0, with no holes.
    ids = sorted([d["_id"] async for d in db["status_changes"].find({"alloc": ALLOC})])
    assert ids == [f"{ALLOC}|{n}" for n in range(4)]


async def test_a_change_logged_but_not_yet_applied_is_read_again(
    graph: IssuerGraph, db: Any
) -> None:
    await _credential(db, "late", 7)
    await _credential(db, "done", 8)
    publisher = graph.publisher
    now = datetime.now(UTC) + timedelta(seconds=1)
    await _change(graph, db, "late", "revoked", land=False)  # its update has not landed yet
    await _change(graph, db, "done", "revoked")
    flags, position = await publisher.flags_of(_list(), now)
    assert flags["revocation"] == {8}
    assert position == 0  # stops at the pending entry: the next re-sign reads it again
    await db["credentials"].update_one(
        {"_id": "late"}, {"$set": {"status": "revoked", "status_changed_at": now}}
    )
    flags, position = await publisher.flags_of(_list(), now)
    assert flags["revocation"] == {7, 8}
    assert position == 2


async def test_a_change_that_never_landed_is_passed_after_the_grace(
    graph: IssuerGraph, db: Any
) -> None:
    await _credential(db, "refused", 3)
    await _change(graph, db, "refused", "revoked", land=False)
    later = datetime.now(UTC) + timedelta(minutes=5)
    flags, position = await graph.publisher.flags_of(_list(), later)
    assert flags["revocation"] == set()
    assert position == 1


async def test_a_list_from_before_the_numbering_is_rebuilt_in_full_once(
    graph: IssuerGraph, db: Any
) -> None:
    await _credential(db, "old", 11)
    await db["credentials"].update_one({"_id": "old"}, {"$set": {"status": "revoked"}})
    # An entry as the unnumbered log wrote it (random _id), then a numbered one.
    await db["status_changes"].insert_one(
        {"_id": "0f" * 16, "alloc": ALLOC, "credential_id": "old", "at": datetime.now(UTC)}
    )
    await _credential(db, "new", 12)
    await _change(graph, db, "new", "revoked")
    legacy = {"_id": ALLOC}  # no position, no flags
    now = datetime.now(UTC) + timedelta(seconds=1)
    flags, position = await graph.publisher.flags_of(legacy, now)
    assert flags["revocation"] == {11, 12}
    assert position == 1


async def test_writers_find_the_next_number_after_a_restart(
    graph: IssuerGraph, settings: IssuerSettings, db: Any
) -> None:
    for n in range(3):
        await _credential(db, f"r{n}", n)
        await _change(graph, db, f"r{n}", "revoked")
    async with open_connections(SERVICE_NAME, settings) as runtime:
        restarted = await build_graph(settings, runtime)
        try:
            await restarted.repositories.status_changes.record(ALLOC, "r0", datetime.now(UTC))
        finally:
            await restarted.close()
    ids = sorted([d["_id"] async for d in db["status_changes"].find({"alloc": ALLOC})])
    assert ids == [f"{ALLOC}|{n}" for n in range(4)]


async def test_a_list_document_keeps_only_its_latest_publication(
    graph: IssuerGraph, db: Any
) -> None:
    """Re-signs do not grow the list document (issue 19).

    Each publication carries every purpose's whole list; the registry and verifiers keep the
    newest version. Kept as history, the outbox grew by a signed list per re-sign and every read
    of the document (each re-sign, each poll of the small relay) parsed it all on FerretDB.
    """
    lists = graph.repositories.status_lists
    # As an older issuer left it: a history of publications in the outbox.
    history = [{"event_id": f"old{n}", "payload": "{}" * 500} for n in range(20)]
    await db["status_lists"].insert_one({"_id": ALLOC, "version": 20, "outbox": history})
    for version in (21, 22):
        events = [
            revocation_published(ALLOC, version, purpose)
            for purpose in (StatusPurpose.REVOCATION, StatusPurpose.SUSPENSION)
        ]
        assert await lists.record_publication(
            ALLOC,
            previous_version=version - 1,
            version=version,
            published_at=datetime.now(UTC),
            events=events,
            flags={"revocation": [1], "suspension": []},
            log_next=version,
            signed_with="k1",
            resign=None,
        )
        doc = await db["status_lists"].find_one({"_id": ALLOC})
        assert doc is not None
        assert [e["event_id"] for e in doc["outbox"]] == [str(e.event_id) for e in events]
        assert doc["version"] == version


def revocation_published(alloc: str, version: int, purpose: StatusPurpose) -> StatusListPublishedV1:
    return StatusListPublishedV1(
        producer="issuer",
        list_id=f"{alloc}-{purpose.value}",
        institution_id="t",
        issuer_did="did:web:issuer.example",
        purpose=purpose,
        list_url=f"https://registry.example/status/{alloc}-{purpose.value}",
        version=version,
        format="BitstringStatusList",
        credential={"type": ["VerifiableCredential", "BitstringStatusListCredential"]},
    )

"""Share lookups by primary key, and the one-time index of shares made before it (issue 19).

Real MongoDB-protocol server. A database written by an older issuer holds shares and receipts
without references or counters: its readers fall back to the field queries until the build has
run; the build gives the same answers, is idempotent (a crash half-way, two processes), and
openings counted live afterwards add to those counted by the build.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import sceau_issuer.learners.share_index_repository as share_index
from sceau_issuer.learners.repository import LearnerRepository
from sceau_issuer.learners.share_index_repository import TooManyShares
from sceau_shared.settings import MongoSettings

pytestmark = pytest.mark.integration

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
async def db(mongo_client: Any, mongo_settings: MongoSettings) -> AsyncIterator[Any]:
    name = f"{mongo_settings.database}_shares_{uuid.uuid4().hex[:6]}"
    yield mongo_client[name]
    await mongo_client.drop_database(name)


def repository(db: Any) -> LearnerRepository:
    return LearnerRepository(
        db["learner_consents"],
        db["shares"],
        db["share_receipts"],
        db["learner_messages"],
        db["learner_contacts"],
        share_refs=db["share_refs"],
        share_openings=db["share_openings"],
    )


def share(n: int, credential: str = "cred-1", *, for_pdf: bool = False) -> dict[str, Any]:
    return {
        "_id": f"key-{credential}-{n}",
        "share_id": f"s-{credential}-{n}",
        "institution_id": "inst",
        "credential_id": credential,
        "label": f"link {n}",
        "created_at": T0 + timedelta(minutes=n),
        "expires_at": None,
        "revoked_at": None,
        "for_pdf": for_pdf,
        "document": {"big": "x" * 100},
    }


async def answers(repo: LearnerRepository) -> dict[str, Any]:
    listed = await repo.shares_of("inst", "cred-1")
    return {
        "listed": [d["share_id"] for d in listed],
        "one": (await repo.share_of("inst", "cred-1", "s-cred-1-1") or {}).get("label"),
        "other": await repo.share_of("inst", "cred-2", "s-cred-1-1"),
        "by_id": (await repo.share_by_id("s-cred-1-0") or {}).get("credential_id"),
        "pdf": (await repo.pdf_share("inst", "cred-1") or {}).get("share_id"),
        "openings": await repo.openings(["s-cred-1-0", "s-cred-1-1", "s-cred-1-2"]),
    }


async def test_an_older_database_is_indexed_once_with_the_same_answers(db: Any) -> None:
    # As an older issuer left it: shares and receipts, no references, no counters.
    await db["shares"].insert_many([share(0), share(1), share(2, for_pdf=True), share(0, "cred-2")])
    await db["share_receipts"].insert_many(
        [
            {"_id": f"e{n}", "share_id": "s-cred-1-0", "opened_at": T0 + timedelta(hours=n)}
            for n in range(3)
        ]
        + [{"_id": "e9", "share_id": "s-cred-1-1", "opened_at": T0}]
    )
    repo = repository(db)
    await repo.ensure_indexes()  # shares exist: not marked built
    assert not await repo.share_index.built()
    before = await answers(repo)
    assert before["listed"] == ["s-cred-1-0", "s-cred-1-1", "s-cred-1-2"]
    assert before["openings"]["s-cred-1-0"][0] == 3
    assert await repo.share_index.build() == 4
    assert await repo.share_index.built()
    after = await answers(repo)
    assert after["listed"] == before["listed"]
    assert after["one"] == "link 1"
    assert after["other"] is None  # another credential's share is not this one's
    assert after["by_id"] == "cred-1"
    assert after["pdf"] == "s-cred-1-2"
    assert after["openings"]["s-cred-1-0"][0] == 3
    assert after["openings"]["s-cred-1-1"][0] == 1
    assert "s-cred-1-2" not in after["openings"]
    # A crash before the mark (or a second process): the build again changes no answer.
    await db["share_refs"].delete_one({"_id": "built"})
    again = repository(db)
    assert await again.share_index.build() == 4
    assert await answers(again) == after
    # Openings counted live from now on add to the build's.
    assert await again.add_receipt("e10", "s-cred-1-0", T0 + timedelta(days=1), []) == []
    assert await again.add_receipt("e10", "s-cred-1-0", T0 + timedelta(days=1), []) is None
    count, last = (await again.openings(["s-cred-1-0"]))["s-cred-1-0"]
    assert count == 4
    assert last is not None
    assert last.replace(tzinfo=UTC) == T0 + timedelta(days=1)


async def test_a_fresh_database_is_built_from_the_start_and_revokes_by_key(db: Any) -> None:
    repo = repository(db)
    await repo.ensure_indexes()
    assert await repo.share_index.built()
    for n in range(3):
        await repo.insert_share(share(n))
    assert [d["share_id"] for d in await repo.shares_of("inst", "cred-1")] == [
        "s-cred-1-0",
        "s-cred-1-1",
        "s-cred-1-2",
    ]
    assert await repo.revoke_share("inst", "cred-1", "s-cred-1-1", T0)
    assert not await repo.revoke_share("inst", "cred-1", "s-cred-1-1", T0)  # once
    assert not await repo.revoke_share("inst", "cred-2", "s-cred-1-0", T0)  # not that credential's


async def test_shares_made_together_each_get_a_slot_up_to_the_limit(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(share_index, "MAX_SHARES_PER_CREDENTIAL", 6)
    repo = repository(db)
    await repo.ensure_indexes()
    await asyncio.gather(*(repo.insert_share(share(n)) for n in range(6)))
    listed = await repo.shares_of("inst", "cred-1")
    assert sorted(d["share_id"] for d in listed) == [f"s-cred-1-{n}" for n in range(6)]
    with pytest.raises(TooManyShares):
        await repo.insert_share(share(6))
    assert await db["shares"].find_one({"_id": "key-cred-1-6"}) is None

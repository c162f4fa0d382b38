"""Holdings by derived ids: versions, re-issues and tenants, without a query on credential fields.

The series rules ask "which of these modules does this learner hold?"; ``Holdings`` answers with
primary-key reads of the credentials the learner can have (one per version, re-issues followed
through ``superseded_by``). Fakes stand in for the repositories; the real server's plans are
checked in tests/integration/issuer/test_issuer_hot_queries.py.
"""

from __future__ import annotations

import hashlib
from typing import Any, cast

from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.issuing.batch_repository import batch_id_for
from sceau_issuer.issuing.dedupe import dedupe_key_of
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.series.holdings import Holdings


def derive(dedupe: str) -> str:
    return hashlib.sha256(dedupe.encode()).hexdigest()[:32]


class Credentials:
    """Stored credentials by ``_id``; counts the lookups (every one is by primary key)."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.lookups = 0

    def add(
        self, institution: str, achievement: str, version: int, email: str, **fields: Any
    ) -> str:
        credential_id = derive(
            dedupe_key_of(institution, achievement, version, email, fields.pop("supersedes", None))
        )
        self.docs[credential_id] = {
            "_id": credential_id,
            "institution_id": institution,
            "achievement_id": achievement,
            "issued_at": None,
            "status": "active",
            "superseded_by": None,
            **fields,
        }
        return credential_id

    async def holding(self, institution_id: str, credential_id: str) -> dict[str, Any] | None:
        self.lookups += 1
        doc = self.docs.get(credential_id)
        return doc if doc is not None and doc["institution_id"] == institution_id else None


class Achievements:
    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts

    async def count(self, achievement_id: str) -> int:
        return self.counts.get(achievement_id, 0)


def holdings(credentials: Credentials, counts: dict[str, int]) -> Holdings:
    return Holdings(
        cast(CredentialRepository, credentials),
        cast(AchievementRepository, Achievements(counts)),
        derive,
    )


async def test_any_version_counts_and_inactive_ones_do_not() -> None:
    credentials = Credentials()
    credentials.add("t", "m1", 2, "ada@example.org")
    credentials.add("t", "m2", 1, "ada@example.org", status="revoked")
    credentials.add("t", "m3", 1, "ada@example.org", status="suspended")
    found = holdings(credentials, {"m1": 2, "m2": 1, "m3": 1})
    held = await found.held_by("t", ["m1", "m2", "m3"], ["ada@example.org", "bob@example.org"])
    assert held == {"ada@example.org": {"m1"}}
    # One lookup per (learner, component version): 2 learners x (2 + 1 + 1) versions.
    assert credentials.lookups == 8


async def test_a_corrected_credential_is_found_through_its_replacement() -> None:
    credentials = Credentials()
    old = credentials.add("t", "m1", 1, "ada@example.org", status="revoked")
    new = credentials.add("t", "m1", 2, "ada@example.org", supersedes=old)
    credentials.docs[old]["superseded_by"] = new
    active = await holdings(credentials, {"m1": 2}).active("t", "ada@example.org", ["m1"])
    assert [doc["_id"] for doc in active] == [new]


async def test_another_institutions_credentials_are_not_held() -> None:
    credentials = Credentials()
    credentials.add("other", "m1", 1, "ada@example.org")
    assert await holdings(credentials, {"m1": 1}).held_by("t", ["m1"], ["ada@example.org"]) == {}


def test_batch_ids_are_derived_from_tenant_and_key() -> None:
    assert batch_id_for("t|k") == batch_id_for("t|k")
    assert batch_id_for("t|k") != batch_id_for("u|k")
    assert len(batch_id_for("t|k")) == 32

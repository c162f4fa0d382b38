"""The insights' ``issued`` counting in batches, against in-memory fakes of its stores.

Same rules as one event at a time (a redelivery counts nothing, a replacement takes its
original's cell), at a batch's cost: one insert of the tallies, one counter update per cell, no
read of the credentials (the event names the cohort) except for events older than ``batch_id``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sceau_issuer.insights.repository import SINGLE
from sceau_issuer.insights.service import InsightsService, OwnDids, tally_key
from sceau_shared.events import CredentialIssuedV1, VerificationCompletedV1, VerificationOutcome

T0 = datetime(2026, 12, 6, 3, 0, tzinfo=UTC)
BATCH = "b" * 32


@dataclass
class FakeRepository:
    """The insights repository's counting calls, in memory, with a log of the calls."""

    tallies: dict[str, dict[str, Any]] = field(default_factory=dict)
    counters: dict[tuple[str, str, str], int] = field(default_factory=dict)
    since: dict[tuple[str, str, str], datetime] = field(default_factory=dict)
    achievements: list[tuple[str, str]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    pending: dict[str, list[str]] = field(default_factory=dict)
    events: set[str] = field(default_factory=set)
    metrics: dict[str, int] = field(default_factory=dict)

    async def tally(self, key: str) -> dict[str, Any] | None:
        self.calls.append("tally")
        return self.tallies.get(key)

    async def add_tally(self, doc: dict[str, Any]) -> bool:
        self.calls.append("add_tally")
        if doc["_id"] in self.tallies:
            return False
        self.tallies[doc["_id"]] = dict(doc)
        return True

    async def add_tallies(self, docs: list[dict[str, Any]]) -> set[str]:
        self.calls.append("add_tallies")
        stored = set()
        for doc in docs:
            if doc["_id"] not in self.tallies:
                self.tallies[doc["_id"]] = dict(doc)
                stored.add(doc["_id"])
        return stored

    async def mark(self, key: str, fact: str, at: datetime) -> bool:
        if self.tallies[key].get(fact) is not None:
            return False
        self.tallies[key][fact] = at
        return True

    async def park(self, key: str, event_id: str, at: datetime) -> None:
        self.calls.append("park")
        waiting = self.pending.setdefault(key, [])
        if event_id not in waiting:
            waiting.append(event_id)

    async def take_pending(self, keys: set[str] | list[str]) -> dict[str, list[str]]:
        self.calls.append("take_pending")
        return {key: self.pending.pop(key) for key in list(keys) if key in self.pending}

    async def first_event(self, event_id: str, at: datetime) -> bool:
        if event_id in self.events:
            return False
        self.events.add(event_id)
        return True

    async def remember_achievement(self, institution_id: str, achievement_id: str) -> None:
        self.calls.append("remember_achievement")
        if (institution_id, achievement_id) not in self.achievements:
            self.achievements.append((institution_id, achievement_id))

    async def increment(
        self,
        institution_id: str,
        achievement_id: str,
        cohort: str,
        metric: str,
        *,
        since: datetime | None = None,
        amount: int = 1,
    ) -> None:
        self.calls.append("increment")
        self.metrics[metric] = self.metrics.get(metric, 0) + amount
        if metric != "issued":
            return
        cell = (institution_id, achievement_id, cohort)
        self.counters[cell] = self.counters.get(cell, 0) + amount
        if since is not None:
            self.since[cell] = min(self.since.get(cell, since), since)


@dataclass
class FakeCredentials:
    """Stored credentials by id (the fallback read of events older than ``batch_id``)."""

    docs: dict[str, dict[str, Any]] = field(default_factory=dict)
    reads: int = 0

    def store(
        self,
        event: CredentialIssuedV1,
        *,
        batch_id: str | None = None,
        supersedes: CredentialIssuedV1 | None = None,
    ) -> None:
        self.docs[event.credential_id.removeprefix("urn:uuid:")] = {
            "achievement_id": event.achievement_id,
            "batch_id": batch_id,
            "supersedes": supersedes.credential_id.removeprefix("urn:uuid:")
            if supersedes
            else None,
            "issued_at": event.issued_at,
        }

    async def get(self, institution_id: str, credential_id: str) -> dict[str, Any] | None:
        self.reads += 1
        return self.docs.get(credential_id)


OURS = "did:key:z6Mk"


async def own_did(did: str) -> bool:
    return did == OURS


def service() -> tuple[InsightsService, FakeRepository, FakeCredentials]:
    repo, credentials = FakeRepository(), FakeCredentials()
    insights = InsightsService(
        repo,  # type: ignore[arg-type]
        credentials=credentials,  # type: ignore[arg-type]
        achievements=None,  # type: ignore[arg-type]
        series=None,  # type: ignore[arg-type]
        threshold=5,
        own_did=own_did,
    )
    return insights, repo, credentials


def verified(n: int, *, did: str = OURS, proven: bool = True) -> VerificationCompletedV1:
    return VerificationCompletedV1(
        producer="verifier",
        credential_id_hash=tally_key(f"00000000-0000-4000-8000-{n:012d}"),
        issuer_did=did,
        issuer_proven=proven,
        outcome=VerificationOutcome.VERIFIED,
        verified_at=T0,
    )


def issued(
    n: int,
    *,
    achievement: str = "a1",
    batch_id: str | None = None,
    supersedes: int | None = None,
    at: datetime = T0,
) -> CredentialIssuedV1:
    return CredentialIssuedV1(
        producer="issuer",
        credential_id=f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
        institution_id="college-a",
        issuer_did="did:key:z6Mk",
        achievement_id=achievement,
        achievement_version=1,
        achievement_type="MicroCredential",
        profile="ob3-v2",
        issued_at=at,
        supersedes=f"urn:uuid:00000000-0000-4000-8000-{supersedes:012d}" if supersedes else None,
        batch_id=batch_id,
    )


async def test_a_batch_costs_one_insert_and_one_update_per_cell() -> None:
    insights, repo, credentials = service()
    events = [
        issued(1, at=T0 + timedelta(seconds=2)),
        issued(2, at=T0),
        issued(3, batch_id=BATCH),
        issued(4, batch_id=BATCH),
        issued(5, achievement="a2"),
    ]
    await insights.credentials_issued(events)
    assert repo.counters == {
        ("college-a", "a1", SINGLE): 2,
        ("college-a", "a1", BATCH): 2,
        ("college-a", "a2", SINGLE): 1,
    }
    assert repo.since[("college-a", "a1", SINGLE)] == T0  # the cohort's earliest credential
    assert sorted(repo.achievements) == [("college-a", "a1"), ("college-a", "a2")]
    assert repo.calls.count("add_tallies") == 1
    assert repo.calls.count("increment") == 3
    assert repo.calls.count("remember_achievement") == 2
    assert "tally" not in repo.calls  # the insert's duplicates say what was counted
    assert credentials.reads == 0  # the event names the cohort


async def test_a_redelivered_batch_or_event_counts_nothing() -> None:
    insights, repo, _ = service()
    events = [issued(1), issued(2, batch_id=BATCH)]
    await insights.credentials_issued(events)
    await insights.credentials_issued(events)  # the batch again (its offsets were not committed)
    await insights.credentials_issued([issued(1), issued(1), issued(3)])  # twice in one batch
    assert repo.counters == {("college-a", "a1", SINGLE): 2, ("college-a", "a1", BATCH): 1}


async def test_the_one_by_one_path_and_the_batch_path_count_a_credential_once() -> None:
    # A learner's route (accept, share) may make the tally first: the batch then skips it.
    insights, repo, credentials = service()
    first = issued(1)
    credentials.store(first)
    await insights.accepted("college-a", first.credential_id.removeprefix("urn:uuid:"))
    await insights.credentials_issued([first, issued(2)])
    assert repo.counters == {("college-a", "a1", SINGLE): 2}


async def test_a_replacement_takes_its_originals_cell_in_the_same_batch_or_later() -> None:
    insights, repo, credentials = service()
    original = issued(1, batch_id=BATCH)
    replacement = issued(2, supersedes=1)
    # The per-credential path reads the replacement (its own cohort would be "single").
    credentials.store(replacement, supersedes=original)
    await insights.credentials_issued([replacement, original])  # the replacement first, even
    assert repo.counters == {("college-a", "a1", BATCH): 1}
    moved = repo.tallies[tally_key(replacement.credential_id.removeprefix("urn:uuid:"))]
    assert (moved["a"], moved["c"]) == ("a1", BATCH)
    later = issued(3, supersedes=1)
    credentials.store(later, supersedes=original)
    await insights.credentials_issued([later])
    assert repo.counters == {("college-a", "a1", BATCH): 1}


async def test_an_event_older_than_batch_id_reads_its_cohort_from_the_credential() -> None:
    insights, repo, credentials = service()
    payload = json.loads(issued(7).to_bytes())
    del payload["batch_id"]  # written before the field existed
    old = CredentialIssuedV1.model_validate(payload)
    assert "batch_id" not in old.model_fields_set
    credentials.store(old, batch_id=BATCH)
    await insights.credentials_issued([old, issued(8)])
    assert credentials.reads == 1
    assert repo.counters == {("college-a", "a1", BATCH): 1, ("college-a", "a1", SINGLE): 1}


def test_the_issuer_always_names_the_batch_even_when_null() -> None:
    # A single issue's event carries "batch_id": null, so it is not taken for an old event.
    event = CredentialIssuedV1.model_validate_json(issued(9).to_bytes())
    assert "batch_id" in event.model_fields_set
    assert event.batch_id is None


async def test_a_verification_before_its_issued_event_is_counted_when_the_tally_is_made() -> None:
    # The verifier names the credential by hash only: an early verification of one of our
    # credentials waits (parked) and is counted with the batch that makes its tally.
    insights, repo, _ = service()
    early, again = verified(1), verified(1)
    await insights.verification(early)
    await insights.verification(early)  # redelivered: still one event
    await insights.verification(again)
    assert repo.metrics == {}
    await insights.credentials_issued([issued(1), issued(2)])
    assert repo.metrics == {"issued": 2, "verified": 1, "verifications": 2}
    assert repo.pending == {}
    await insights.verification(verified(1))  # a later one counts as usual
    assert repo.metrics["verifications"] == 3
    assert repo.metrics["verified"] == 1


async def test_an_early_verification_waits_for_the_one_by_one_path_too() -> None:
    insights, repo, credentials = service()
    first = issued(1)
    credentials.store(first)
    await insights.verification(verified(1))
    await insights.accepted("college-a", first.credential_id.removeprefix("urn:uuid:"))
    assert repo.metrics == {"issued": 1, "verified": 1, "verifications": 1, "accepted": 1}


async def test_foreign_or_unproven_verifications_are_not_kept() -> None:
    insights, repo, _ = service()
    await insights.verification(verified(1, did="did:web:elsewhere.example"))
    await insights.verification(verified(2, proven=False))
    assert repo.pending == {}
    assert "park" not in repo.calls


async def test_own_dids_are_reread_on_a_miss_at_most_once_per_interval() -> None:
    loads: list[int] = []
    now = [0.0]
    known = {"did:web:a"}

    async def load() -> set[str]:
        loads.append(1)
        return set(known)

    own = OwnDids(load, refresh_s=30, clock=lambda: now[0])
    assert await own("did:web:a")
    assert not await own("did:web:b")  # a miss within the interval: no second read
    known.add("did:web:b")
    assert not await own("did:web:b")
    assert len(loads) == 1
    now[0] = 31.0
    assert await own("did:web:b")
    assert len(loads) == 2

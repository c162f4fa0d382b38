"""Issuer insights on the real issuer (real Kafka, real FerretDB): a seeded cohort, counted.

A college issues module 1 to a batch of 12, a batch of 3 and 7 learners one by one; modules 2
and 3 to some of the first batch, which earns them the series' overall credential. Learners
accept and share (one share hides the grade: a derived copy with its own id); the verifier
reports verifications (one redelivered, one of the derived copy, one of a credential that is
not ours); one credential is revoked. The issuer's own consumers count it all from the events;
the report suppresses small cells so that no total gives one back; the old summary endpoint
reads the same cells and now counts verifications (R73, R77).
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import statistics
import time
import uuid
from typing import Any

import pytest
from issuer_support import IssuerHarness, micro
from learner_support import publish
from pymongo import AsyncMongoClient

from sceau_dev.testing.polling import eventually
from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.apikeys.service import Scope
from sceau_issuer.insights.backfill_repository import BACKFILL_MARKS
from sceau_issuer.insights.repository import SINGLE, InsightsRepository
from sceau_issuer.insights.service import InsightsService
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.learners.repository import SHARES
from sceau_issuer.series.repository import SeriesRepository
from sceau_shared.events import CredentialIssuedV1, VerificationCompletedV1, VerificationOutcome
from sceau_shared.events.envelope import utcnow
from sceau_shared.settings import MongoSettings

pytestmark = pytest.mark.integration

K = 5


def _hash(credential_id: str) -> str:
    urn = credential_id if credential_id.startswith("urn:") else f"urn:uuid:{credential_id}"
    return hashlib.sha256(urn.encode()).hexdigest()


def _verification(credential_id: str) -> VerificationCompletedV1:
    return VerificationCompletedV1(
        producer="verifier",
        credential_id_hash=_hash(credential_id),
        outcome=VerificationOutcome.VERIFIED,
        verified_at=utcnow(),
    )


async def _batch(
    harness: IssuerHarness, headers: dict[str, str], achievement: str, emails: list[str]
) -> tuple[str, list[str]]:
    body = {"achievement_id": achievement, "recipients": [{"email": e} for e in emails]}
    answer = await harness.http.post(
        "/v1/batches", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert answer.status_code == 202, answer.text
    batch_id = str(answer.json()["batch_id"])

    async def done() -> bool:
        state = (await harness.http.get(f"/v1/batches/{batch_id}", headers=headers)).json()
        return bool(state["state"] == "completed")

    await eventually(done, timeout_s=120, message="batch completed")
    listed = await harness.http.get(
        f"/v1/credentials?batch_id={batch_id}&page_size=100", headers=headers
    )
    ids = [str(i["credential_id"]) for i in listed.json()["items"]]
    assert len(ids) == len(emails)
    return batch_id, ids


async def _single(
    harness: IssuerHarness, headers: dict[str, str], achievement: str, email: str
) -> str:
    answer = await harness.issue(headers, achievement, email)
    assert answer.status_code == 201, answer.text
    return str(answer.json()["credential_id"])


async def _report(harness: IssuerHarness, headers: dict[str, str]) -> dict[str, Any]:
    answer = await harness.http.get("/v1/insights", headers=headers)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


def _achievement(report: dict[str, Any], achievement_id: str) -> dict[str, Any]:
    return next(a for a in report["achievements"] if a["achievement_id"] == achievement_id)


async def test_a_seeded_cohort_is_counted_and_suppressed(harness: IssuerHarness) -> None:
    graph = harness.svc
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    m1, m2, m3, overall = [
        await harness.published(headers, micro(name={"fr": f"Module {n}", "en": f"Module {n}"}))
        for n in (1, 2, 3, 4)
    ]
    series = await harness.http.post(
        "/v1/series",
        json={
            "name": {"fr": "Parcours", "en": "Pathway"},
            "components": [{"achievement_id": m} for m in (m1, m2, m3)],
            "overall_achievement_id": overall,
        },
        headers=headers,
    )
    assert series.status_code == 201, series.text

    batch_a, cohort_a = await _batch(harness, headers, m1, [f"a{n}@example.org" for n in range(12)])
    batch_b, cohort_b = await _batch(harness, headers, m1, [f"b{n}@example.org" for n in range(3)])
    singles = [await _single(harness, headers, m1, f"s{n}@example.org") for n in range(7)]
    for n in range(6):
        await _single(harness, headers, m2, f"a{n}@example.org")
    for n in range(5):
        await _single(harness, headers, m3, f"a{n}@example.org")  # completes the series

    # Learners: 9 of batch A and the 3 of batch B accept; 6 of batch A share (one hides the grade).
    async def learner(credential_id: str) -> Any:
        token = graph.learners.page_url(institution, credential_id).rsplit("/", 1)[1]
        return await graph.learners.open(token)

    for credential_id in cohort_a[:9] + cohort_b:
        await graph.learners.set_consent(await learner(credential_id), "accepted")
    await graph.learners.set_consent(await learner(singles[0]), "declined")
    for n, credential_id in enumerate(cohort_a[:6]):
        await graph.learners.create_share(
            await learner(credential_id),
            label=f"share {n}",
            expires_in_days=None,
            hide_result=n == 5,
        )
    derived = await harness.db[SHARES].find_one(
        {"credential_id": cohort_a[5], "derived_id": {"$ne": None}}
    )
    assert derived is not None

    # The verifier: 5 first checks, one redelivered, a second check of a0, the derived copy,
    # and a credential from elsewhere.
    first = [_verification(c) for c in cohort_a[:5]]
    again = _verification(cohort_a[0])
    elsewhere = _verification(f"urn:uuid:{uuid.uuid4()}")
    await publish(harness, *first, first[0], again, _verification(derived["derived_id"]), elsewhere)

    revoked = await harness.http.post(
        f"/v1/credentials/{singles[1]}/revoke", json={"reason_code": "other"}, headers=headers
    )
    assert revoked.status_code == 200, revoked.text

    seen: list[dict[str, Any]] = [{}]

    async def counted() -> dict[str, Any] | None:
        report = await _report(harness, headers)
        seen[0] = report
        cells = {a["achievement_id"]: a["counts"] for a in report["achievements"]}
        if cells.get(overall, {}).get("issued") != 5:
            return None
        m1_cells = cells[m1]
        # Revoked (1) is suppressed; wait for the rest.
        if (m1_cells["verifications"], m1_cells["verified"]) != (7, 6):
            return None
        return report if m1_cells["shared"] == 6 else None

    report = await eventually(
        counted,
        timeout_s=90,
        interval_s=0.3,
        message="insights counted",
        details=lambda: repr([(a["achievement_id"], a["counts"]) for a in seen[0]["achievements"]]),
    )

    # Module 1: 22 issued, 12 accepted, 6 shared, 6 verified (7 checks), 1 revoked (hidden).
    first_module = _achievement(report, m1)
    assert first_module["counts"] == {
        "issued": 22,
        "accepted": 12,
        "shared": 6,
        "verified": 6,
        "verifications": 7,
        "revoked": None,
    }
    cohorts = {c["cohort"]: c["counts"] for c in first_module["cohorts"]}
    assert list(cohorts) == [batch_a, batch_b, SINGLE]
    assert cohorts[batch_a]["issued"] == 12
    # The differencing attack: 22 - 12 = 10 is batch B (3) and the singles (7) together.
    assert cohorts[batch_b]["issued"] is None
    assert cohorts[SINGLE]["issued"] is None
    for metric, total in first_module["counts"].items():
        hidden = [c[metric] for c in cohorts.values() if c[metric] is None]
        if total is None:
            assert len(hidden) == len(cohorts), metric
        elif hidden:
            shown = sum(c[metric] for c in cohorts.values() if c[metric] is not None)
            assert total - shown >= K, metric
    # The institution: every module and the overall credential, M1 → M2 → M3 → overall.
    assert report["totals"]["issued"] == 22 + 6 + 5 + 5
    [funnel] = report["series"]
    assert [(s["step"], s["reached"]) for s in funnel["steps"]] == [
        ("M1", 22),
        ("M2", 6),
        ("M3", 5),
        ("overall", 5),
    ]
    assert [s["percent_of_first"] for s in funnel["steps"]] == [100.0, 27.3, 22.7, 22.7]
    assert funnel["steps"][3]["name"] == {"fr": "Module 4", "en": "Module 4"}

    # Redelivered issued events change nothing.
    credential = await graph.credentials.get(institution, cohort_a[0])
    assert credential is not None
    replay = CredentialIssuedV1(
        producer="issuer",
        credential_id=f"urn:uuid:{cohort_a[0]}",
        institution_id=institution,
        issuer_did=credential["issuer_did"],
        achievement_id=m1,
        achievement_version=1,
        achievement_type="MicroCredential",
        profile="ob3-v2",
        issued_at=credential["issued_at"],
    )
    await graph.insights.credential_issued(replay)
    await graph.insights.credential_issued(replay)
    assert _achievement(await _report(harness, headers), m1)["counts"]["issued"] == 22

    # No learner data is kept: the tallies hold hashes, ids of achievements and cohorts, times.
    async for doc in harness.db["insights_credentials"].find({"i": institution}):
        assert "@" not in repr(doc)
        assert cohort_a[0] not in repr(doc)

    # The summary endpoint: the same cells, now with verifications (R73, R77).
    summary = await harness.http.get("/v1/institution/reports/summary", headers=headers)
    assert summary.status_code == 200, summary.text
    by_id = {a["achievement_id"]: a["counts"] for a in summary.json()["achievements"]}
    assert by_id[m1] == first_module["counts"]
    assert summary.json()["suppression_threshold"] == K

    # CSV: the same figures, suppressed cells empty and marked.
    answer = await harness.http.get("/v1/insights?format=csv", headers=headers)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(answer.text)))
    row = next(
        r
        for r in rows
        if r["table"] == "cohort" and r["cohort"] == batch_b and r["metric"] == "issued"
    )
    assert (row["value"], row["suppressed"]) == ("", "true")
    steps = [r for r in rows if r["table"] == "funnel"]
    assert [(r["step"], r["value"]) for r in steps] == [
        ("M1", "22"),
        ("M2", "6"),
        ("M3", "5"),
        ("overall", "5"),
    ]


async def test_targets_are_compared_with_actuals(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    reader = await harness.api_key(institution, Scope.READ)
    achievement = await harness.published(headers, micro())
    for n in range(6):
        await _single(harness, headers, achievement, f"t{n}@example.org")
    put = await harness.http.put(
        f"/v1/insights/targets/{achievement}",
        json={"targets": {"issued": 24, "verified": 10}},
        headers=headers,
    )
    assert put.status_code == 200, put.text
    assert put.json() == {"achievement_id": achievement, "targets": {"issued": 24, "verified": 10}}

    async def issued() -> dict[str, Any] | None:
        report = await _report(harness, reader)
        found = _achievement(report, achievement)
        return found if found["counts"]["issued"] == 6 else None

    # The consumers' groups join when the app starts: on a loaded machine that takes a while.
    found = await eventually(issued, timeout_s=90, interval_s=0.3, message="six issued")
    assert found["targets"] == {
        "issued": {"target": 24, "actual": 6, "percent": 25.0},
        "verified": {"target": 10, "actual": 0, "percent": 0.0},
    }

    # Refusals: another's (or no) achievement, unknown metric, read-only key, no key.
    other = await harness.http.put(
        f"/v1/insights/targets/{uuid.uuid4().hex}", json={"targets": {"issued": 1}}, headers=headers
    )
    assert other.status_code == 404
    assert other.headers["content-type"].startswith("application/problem+json")
    for body in ({"targets": {"revoked": 3}}, {"targets": {"issued": 0}}, {"targets": []}, {}):
        bad = await harness.http.put(
            f"/v1/insights/targets/{achievement}", json=body, headers=headers
        )
        assert bad.status_code == 422, (body, bad.text)
        assert bad.headers["content-type"].startswith("application/problem+json")
    forbidden = await harness.http.put(
        f"/v1/insights/targets/{achievement}", json={"targets": {"issued": 1}}, headers=reader
    )
    assert forbidden.status_code == 403
    assert (await harness.http.get("/v1/insights")).status_code == 401
    assert (await harness.http.get("/v1/insights?format=xml", headers=reader)).status_code == 422
    # Another institution sees nothing of this one.
    stranger = await harness.api_key(await harness.tenant())
    assert (await _report(harness, stranger))["achievements"] == []


async def test_counters_written_together_lose_nothing(harness: IssuerHarness) -> None:
    """FerretDB applies an update as read-modify-write: concurrent ones must not lose a count."""
    repository = harness.svc.repositories.insights
    institution = f"inst-{uuid.uuid4().hex[:8]}"
    await asyncio.gather(
        *(
            repository.increment(institution, "a1", SINGLE if n % 2 else "b" * 32, metric)
            for n in range(120)
            for metric in ("issued", "verifications")
        )
    )
    doc = await repository.counters(institution, "a1")
    assert doc is not None
    assert doc["totals"] == {"issued": 120, "verifications": 120}
    assert doc["cohorts"][SINGLE]["issued"] == 60


async def test_insights_cost_does_not_follow_the_credentials(
    mongo_client: AsyncMongoClient[dict[str, Any]], mongo_settings: MongoSettings
) -> None:
    """Reading the report and counting a verification cost the same with 1,000 or 20,000 tallies.

    20 achievements of 10 cohorts each; the medians of 15 runs may differ by 3x at most (a scan
    of 20,000 documents is ~20x one of 1,000 on FerretDB; a keyed lookup stays flat).
    """
    db = mongo_client[mongo_settings.database]
    repository = InsightsRepository(
        db["insights_counters"],
        db["insights_credentials"],
        db["insights_events"],
        db["insights_pending"],
    )
    insights = InsightsService(
        repository,
        credentials=CredentialRepository(db["credentials"]),
        achievements=AchievementRepository(db["achievements"]),
        series=SeriesRepository(db["series"], db["series_components"]),
        threshold=K,
    )
    institution = f"inst-{uuid.uuid4().hex[:8]}"
    achievements = [uuid.uuid4().hex for _ in range(20)]
    cohorts = [uuid.uuid4().hex for _ in range(10)]
    for achievement in achievements:
        for cohort in cohorts:
            await repository.remember_achievement(institution, achievement)
            await repository.increment(institution, achievement, cohort, "issued")
    stored: list[str] = []

    async def store(upto: int) -> None:
        while len(stored) < upto:
            docs = [
                {
                    "_id": _hash(f"urn:uuid:{uuid.uuid4()}"),
                    "i": institution,
                    "a": achievements[n % 20],
                    "c": cohorts[n % 10],
                    **dict.fromkeys(("accepted", "shared", "verified", "revoked")),
                }
                for n in range(len(stored), min(upto, len(stored) + 2000))
            ]
            await db["insights_credentials"].insert_many(docs)
            stored.extend(d["_id"] for d in docs)

    async def medians() -> tuple[float, float]:
        reads, counts = [], []
        for key in stored[-15:]:
            started = time.perf_counter()
            report = await insights.report(institution)
            reads.append(time.perf_counter() - started)
            assert len(report.achievements) == 20
            started = time.perf_counter()
            await insights.verification(
                VerificationCompletedV1(
                    producer="verifier",
                    credential_id_hash=key,
                    outcome=VerificationOutcome.VERIFIED,
                    verified_at=utcnow(),
                )
            )
            counts.append(time.perf_counter() - started)
        return statistics.median(reads), statistics.median(counts)

    await store(1000)
    few_read, few_count = await medians()
    await store(20_000)
    many_read, many_count = await medians()
    report = (
        f"report {few_read * 1000:.1f} -> {many_read * 1000:.1f} ms, verification "
        f"{few_count * 1000:.1f} -> {many_count * 1000:.1f} ms (1,000 -> 20,000 tallies)"
    )
    print(report)
    assert many_read < 3 * few_read + 0.01, report
    assert many_count < 3 * few_count + 0.005, report


async def test_a_page_link_opens_the_page_for_fifteen_minutes(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    reader = await harness.api_key(institution, Scope.READ)
    made = await harness.http.post("/v1/insights/page-links", headers=reader)
    assert made.status_code == 201, made.text
    url = made.json()["url"]
    assert url.startswith("http://issuer.test/insights/")
    path = url.removeprefix("http://issuer.test")
    for lang, title in (("fr", "Indicateurs"), ("en", "Institution insights")):
        page = await harness.http.get(f"{path}?lang={lang}")  # no API key: the link is the key
        assert page.status_code == 200, page.text
        assert f'<html lang="{lang}">' in page.text
        assert title in page.text
        assert "default-src 'none'" in page.headers["content-security-policy"]
        assert page.headers["cache-control"] == "no-store"
        assert page.headers["referrer-policy"] == "no-referrer"
    exported = await harness.http.get(f"{path}?format=csv")
    assert exported.headers["content-type"].startswith("text/csv")
    vault = harness.svc.vault
    expired = vault.insights_token(institution_id=institution, ttl_s=-1)
    learner = vault.learner_token(credential_id="x", institution_id=institution, ttl_s=60)
    for bad in (expired, learner, path.rsplit("/", 1)[1][:-2] + "AA", "nothing"):
        answer = await harness.http.get(f"/insights/{bad}")
        assert answer.status_code == 404, bad
        assert answer.headers["content-type"].startswith("application/problem+json")
    # An insights link opens no learner page.
    insights_token = path.rsplit("/", 1)[1]
    assert (await harness.http.get(f"/learn/{insights_token}")).status_code == 404
    assert (await harness.http.post("/v1/insights/page-links")).status_code == 401


async def test_what_was_stored_before_the_counters_is_counted_once(harness: IssuerHarness) -> None:
    """An upgrade: credentials issued, accepted, shared and revoked before insights existed."""
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    ids = [await _single(harness, headers, achievement, f"b{n}@example.org") for n in range(6)]
    revoked = await harness.http.post(
        f"/v1/credentials/{ids[0]}/revoke", json={"reason_code": "other"}, headers=headers
    )
    assert revoked.status_code == 200, revoked.text
    graph, db = harness.svc, harness.db
    # As an older Sceau left them: a consent and a share, no counters, no backfill mark.
    await db["learner_consents"].insert_one(
        {"_id": ids[1], "institution_id": institution, "state": "accepted", "at": utcnow()}
    )
    await db[SHARES].insert_one(
        {"_id": uuid.uuid4().hex, "institution_id": institution, "credential_id": ids[2]}
    )

    async def counted_live() -> bool:
        doc = await graph.repositories.insights.counters(institution, achievement)
        return bool(doc and doc["totals"].get("issued") == 6 and doc["totals"].get("revoked"))

    await eventually(counted_live, timeout_s=90, interval_s=0.3, message="live counts")
    # The achievement's counters and the tallies go; the institution's index stays (this
    # process remembers having written it).
    await db["insights_counters"].delete_one({"_id": f"{institution}|{achievement}"})
    await db["insights_credentials"].delete_many({"_id": {"$in": [_hash(c) for c in ids]}})
    await db[BACKFILL_MARKS].delete_many({})

    backfill = graph.insights_backfill
    assert await backfill.once() >= 6
    doc = await graph.repositories.insights.counters(institution, achievement)
    assert doc is not None
    assert doc["totals"] == {"issued": 6, "revoked": 1, "accepted": 1, "shared": 1}
    assert await backfill.once() == 0  # marked done: later starts read nothing
    await db[BACKFILL_MARKS].delete_many({})
    await backfill.once()  # run again (a second process, a crash half-way): nothing counted twice
    again = await graph.repositories.insights.counters(institution, achievement)
    assert again is not None
    assert again["totals"] == doc["totals"]
    assert _achievement(await _report(harness, headers), achievement)["counts"]["issued"] == 6


async def test_a_verification_before_the_issued_count_waits_for_it(harness: IssuerHarness) -> None:
    """The verifier names a credential by hash only: an early verification is kept, then counted.

    Made here as an issued event still queued when the verification is handled: the credential's
    tally and counters are removed after the live count, the verification handled, then the
    credential counted again (as its issued event would).
    """
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    credential = await _single(harness, headers, achievement, "early@example.org")
    graph, db = harness.svc, harness.db

    async def counted() -> bool:
        doc = await graph.repositories.insights.counters(institution, achievement)
        return bool(doc and doc["totals"].get("issued") == 1)

    await eventually(counted, timeout_s=90, interval_s=0.3, message="issued counted")
    await db["insights_counters"].delete_one({"_id": f"{institution}|{achievement}"})
    await db["insights_credentials"].delete_one({"_id": _hash(credential)})
    tenant = await graph.repositories.tenants.get(institution)
    assert tenant is not None
    early = _verification(credential).model_copy(
        update={"issuer_did": tenant.did, "issuer_proven": True}
    )
    await graph.insights.verification(early)
    await graph.insights.verification(early)  # redelivered
    assert await db["insights_pending"].find_one({"_id": _hash(credential)}) is not None
    await graph.insights.count_existing(institution, credential, revoked=False)
    doc = await graph.repositories.insights.counters(institution, achievement)
    assert doc is not None
    assert doc["totals"] == {"issued": 1, "verified": 1, "verifications": 1}
    assert await db["insights_pending"].find_one({"_id": _hash(credential)}) is None
    # Not ours (another DID) or not proven: nothing kept.
    stranger = _verification(f"urn:uuid:{uuid.uuid4()}")
    for event in (
        stranger.model_copy(update={"issuer_did": "did:web:else.example", "issuer_proven": True}),
        stranger.model_copy(update={"issuer_did": tenant.did, "issuer_proven": False}),
    ):
        await graph.insights.verification(event)
    assert await db["insights_pending"].find_one({"_id": stranger.credential_id_hash}) is None


async def test_grouped_acceptances_count_each_credential_once(harness: IssuerHarness) -> None:
    """Wallet deliveries record acceptances in groups: one conditional update per credential in
    one command, one counter update per cell. A credential accepted before, one whose tally is
    not made yet (its issued event still queued) and one named twice are each counted once.
    """
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    ids = [await _single(harness, headers, achievement, f"group{n}@example.org") for n in range(4)]
    graph, db = harness.svc, harness.db

    async def issued() -> bool:
        doc = await graph.repositories.insights.counters(institution, achievement)
        return bool(doc and doc["totals"].get("issued") == len(ids))

    await eventually(issued, timeout_s=90, interval_s=0.3, message="issued counted")
    await graph.insights.accepted(institution, ids[0])  # accepted on the page before
    await db["insights_credentials"].delete_one({"_id": _hash(ids[3])})  # tally not made yet
    docs = [await graph.repositories.credentials.get(institution, cid) for cid in ids]
    assert all(doc is not None for doc in docs)
    await graph.insights.accepted_many([doc for doc in docs if doc] + [docs[1] or {}])
    counters = await graph.repositories.insights.counters(institution, achievement)
    assert counters is not None
    # ids[3]'s tally was remade on the one-by-one path, which counted it issued once more.
    assert counters["totals"]["accepted"] == len(ids)
    await graph.insights.accepted_many([doc for doc in docs if doc])  # again: nothing more
    counters = await graph.repositories.insights.counters(institution, achievement)
    assert counters is not None
    assert counters["totals"]["accepted"] == len(ids)

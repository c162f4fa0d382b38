"""Cohort batches: progress, per-recipient results, and exact resumption after a crash."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter

import pytest
from issuer_support import IssuerHarness, consume, micro

from sceau_dev.testing.polling import eventually
from sceau_issuer.issuing.batches import BatchWorker
from sceau_shared.events import CredentialIssuedV1

pytestmark = pytest.mark.integration


def recipients(n: int, prefix: str = "l") -> list[dict[str, str]]:
    return [
        {"email": f"{prefix}{i}@example.org", "language": "fr" if i % 2 else "en"} for i in range(n)
    ]


async def _state(harness: IssuerHarness, headers: dict[str, str], batch_id: str) -> dict:
    return (await harness.http.get(f"/v1/batches/{batch_id}", headers=headers)).json()


async def test_batch_issues_reports_and_is_idempotent(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    held = await harness.issue(headers, achievement, "l3@example.org")
    assert held.status_code == 201
    people = [*recipients(30), {"email": "L0@example.org"}]
    body = {"achievement_id": achievement, "recipients": people}
    key = {**headers, "Idempotency-Key": "batch-1"}
    accepted = await harness.http.post("/v1/batches", json=body, headers=key)
    assert accepted.status_code == 202, accepted.text
    batch_id = accepted.json()["batch_id"]
    replay = await harness.http.post("/v1/batches", json=body, headers=key)
    assert replay.status_code == 200
    assert replay.json()["batch_id"] == batch_id

    async def done() -> dict | None:
        state = await _state(harness, headers, batch_id)
        return state if state["state"] == "completed" else None

    final = await eventually(done, timeout_s=120, message="batch completed")
    assert final["counts"] == {"issued": 29, "duplicate": 2, "failed": 0}
    assert final["progress"] == 1.0
    assert final["report"]["total"] == 31
    results = (
        await harness.http.get(f"/v1/batches/{batch_id}/results?state=duplicate", headers=headers)
    ).json()
    assert {r["email"] for r in results["items"]} == {"l3@example.org", "L0@example.org"}
    listed = (
        await harness.http.get(f"/v1/credentials?batch_id={batch_id}&page_size=1", headers=headers)
    ).json()
    assert listed["total"] == 29
    assert len(listed["items"]) == 1
    too_big = await harness.http.post(
        "/v1/batches",
        json={"achievement_id": achievement, "recipients": recipients(10_001)},
        headers={**headers, "Idempotency-Key": "big"},
    )
    assert too_big.status_code in (413, 422)


async def test_batch_resumes_after_crash_with_one_credential_each(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    [worker_task] = [t for t in asyncio.all_tasks() if t.get_name() == "batch-worker"]
    body = {"achievement_id": achievement, "recipients": recipients(100, "r")}
    accepted = await harness.http.post(
        "/v1/batches", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    batch_id = accepted.json()["batch_id"]
    chunks = harness.db["batch_chunks"]

    async def some_issued() -> bool:
        return await chunks.count_documents({"batch_id": batch_id, "state": "done"}) >= 1

    await eventually(some_issued, timeout_s=60, interval_s=0.02, message="a first chunk issued")
    worker_task.cancel()  # the process "dies" mid-batch
    await asyncio.gather(worker_task, return_exceptions=True)
    state = await _state(harness, headers, batch_id)
    assert state["state"] == "running"
    assert state["pending"] > 0
    # Worst case: a run stored a chunk's credentials, then died before recording the chunk.
    probe = BatchWorker(harness.svc.repositories.batches, harness.svc.issuing, lease_s=2, poll_s=1)
    batch = await harness.db["batches"].find_one({"_id": batch_id})
    tenant = await harness.svc.tenants.get(institution)
    pinned = await harness.svc.achievements.pinned(tenant, achievement, 1)
    # (the last chunk: the cancelled run may itself have died in that window on an earlier one)
    raw = await chunks.find_one({"batch_id": batch_id, "state": "pending"}, sort=[("number", -1)])
    assert raw is not None
    pending = await harness.svc.repositories.batches.chunk(batch_id, raw["number"])
    assert pending is not None
    _, _, stored = await probe._prepare(batch, pinned, pending)
    for doc in stored:
        doc.pop("_item")
    assert await harness.svc.credentials.insert_many(stored) == set()
    restarted = BatchWorker(
        harness.svc.repositories.batches,
        harness.svc.issuing,
        lease_s=2.0,
        poll_s=0.2,
    )
    task = asyncio.create_task(restarted.run())
    try:

        async def done() -> dict | None:
            doc = await _state(harness, headers, batch_id)
            return doc if doc["state"] == "completed" else None

        final = await eventually(done, timeout_s=120, message="batch completed")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    assert final["counts"] == {"issued": 100, "duplicate": 0, "failed": 0}
    per_recipient = Counter(
        [
            d["recipient"]["email_norm"]
            async for d in harness.db["credentials"].find({"batch_id": batch_id})
        ]
    )
    assert len(per_recipient) == 100
    assert set(per_recipient.values()) == {1}
    batch = await harness.db["batches"].find_one({"_id": batch_id})
    linked = {i["credential_id"] for i in await harness.svc.repositories.batches.items(batch)}
    assert None not in linked
    assert len(linked) == 100
    # Every issued credential's events were relayed exactly once (one issued event each).
    events = await consume(harness.settings.kafka, CredentialIssuedV1, 100)
    assert len({e.credential_id for e in events}) == 100
    with pytest.raises(TimeoutError):
        await consume(harness.settings.kafka, CredentialIssuedV1, 101, within=3)


async def test_a_cohort_with_grades_evidence_and_credits_in_one_batch(
    harness: IssuerHarness,
) -> None:
    """Each recipient carries their own results, evidence and credits; bad ones name the index."""
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(
        headers, micro(credit_status="credit", credits=3, transcriptable=True)
    )
    people = [
        {
            "email": "g0@example.org",
            "results": [{"assessment": 1, "value": "A"}],
            "evidence": [{"url": "https://git.example.org/g0/capstone", "name": "Capstone"}],
            "credits_earned": 3,
        },
        {"email": "g1@example.org", "results": [{"assessment": 1, "value": "B+"}]},
        {"email": "g2@example.org"},
    ]
    accepted = await harness.http.post(
        "/v1/batches",
        json={"achievement_id": achievement, "recipients": people},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert accepted.status_code == 202, accepted.text
    batch_id = accepted.json()["batch_id"]

    async def done() -> dict | None:
        state = await _state(harness, headers, batch_id)
        return state if state["state"] == "completed" else None

    final = await eventually(done, timeout_s=120, message="batch completed")
    assert final["counts"]["issued"] == 3
    items = (await harness.http.get(f"/v1/batches/{batch_id}/results", headers=headers)).json()[
        "items"
    ]
    subjects = {}
    for item in items:
        detail = await harness.http.get(f"/v1/credentials/{item['credential_id']}", headers=headers)
        body = detail.json()
        assert set(body["recipient"]) <= {"email", "name", "did", "language"}  # no grades there
        subjects[item["email"]] = body["document"]
    g0 = subjects["g0@example.org"]
    assert [r["value"] for r in g0["credentialSubject"]["result"]] == ["A"]
    assert g0["credentialSubject"]["creditsEarned"] == 3
    assert g0["evidence"][0]["id"] == "https://git.example.org/g0/capstone"
    g1 = subjects["g1@example.org"]
    assert [r["value"] for r in g1["credentialSubject"]["result"]] == ["B+"]
    assert "evidence" not in g1
    assert "result" not in subjects["g2@example.org"]["credentialSubject"]

    # Refusals name the recipient: semantic checks against the achievement, and the schema.
    bad = [
        {"email": "b0@example.org"},
        {"email": "b1@example.org", "results": [{"assessment": 2, "value": "A"}]},
        {"email": "b2@example.org", "credits_earned": 4},
    ]
    refused = await harness.http.post(
        "/v1/batches",
        json={"achievement_id": achievement, "recipients": bad},
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    fields = [e["field"] for e in refused.json()["errors"]]
    assert fields == ["recipients.1.results.0.assessment", "recipients.2.credits_earned"]
    assert refused.json()["errors"][0]["pointer"] == "/recipients/1/results/0/assessment"
    malformed = await harness.http.post(
        "/v1/batches",
        json={
            "achievement_id": achievement,
            "recipients": [
                {"email": "m@example.org"},
                {"email": "n@example.org", "evidence": [{"url": "nope"}]},
            ],
        },
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["field"].startswith("recipients.1.evidence.0.url")
    non_credit = await harness.published(headers, micro())
    refused_credits = await harness.http.post(
        "/v1/batches",
        json={
            "achievement_id": non_credit,
            "recipients": [{"email": "c@example.org", "credits_earned": 1}],
        },
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert refused_credits.status_code == 422
    assert refused_credits.json()["errors"][0]["field"] == "recipients.0.credits_earned"

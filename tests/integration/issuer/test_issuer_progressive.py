"""Progressive series: a component only for learners who hold the earlier ones (per recipient)."""

from __future__ import annotations

from typing import Any

import pytest
from issuer_support import IssuerHarness

from sceau_dev.testing.polling import eventually

pytestmark = pytest.mark.integration


async def test_single_issue_needs_the_earlier_components(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    (m1, m2, m3), _, series_id = await harness.series(headers)

    refused = await harness.issue(headers, m3, "lea@example.org", key="m3-lea")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    problem = refused.json()
    assert problem["type"].endswith("/prerequisite-missing")
    assert problem["series_id"] == series_id
    assert [p["achievement_id"] for p in problem["missing_prerequisites"]] == [m1, m2]
    assert problem["missing_prerequisites"][0]["name"] == {"fr": "Module 1", "en": "Module 1"}
    assert "'Module 1'" in problem["detail"]
    assert await harness.db["credentials"].count_documents({"institution_id": institution}) == 0
    assert await harness.db["idempotency"].find_one({"_id": f"{institution}|m3-lea"}) is None

    assert (await harness.issue(headers, m1, "lea@example.org")).status_code == 201
    still = await harness.issue(headers, m3, "lea@example.org", key="m3-lea")
    assert still.status_code == 409
    assert [p["achievement_id"] for p in still.json()["missing_prerequisites"]] == [m2]
    assert (await harness.issue(headers, m2, "lea@example.org")).status_code == 201
    # The same key, refused twice, now issues: refusals reserved nothing.
    assert (await harness.issue(headers, m3, "lea@example.org", key="m3-lea")).status_code == 201

    # A revoked prerequisite no longer counts.
    first = await harness.issue(headers, m1, "max@example.org")
    await harness.http.post(
        f"/v1/credentials/{first.json()['credential_id']}/revoke",
        json={"reason_code": "issued-in-error"},
        headers=headers,
    )
    assert (await harness.issue(headers, m2, "max@example.org")).status_code == 409


async def test_modular_series_has_no_order(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    (_, _, m3), _, _ = await harness.series(headers, structure="modular")
    assert (await harness.issue(headers, m3, "any@example.org")).status_code == 201


async def test_batch_fails_only_recipients_without_prerequisites(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    (m1, m2, _), _, _ = await harness.series(headers)
    for email in ("holder@example.org", "Other.Holder@example.org"):
        assert (await harness.issue(headers, m1, email)).status_code == 201
    emails = ["holder@example.org", "newcomer@example.org", "other.holder@example.org"]
    accepted = await harness.http.post(
        "/v1/batches",
        json={"achievement_id": m2, "recipients": [{"email": e} for e in emails]},
        headers={**headers, "Idempotency-Key": "m2-cohort"},
    )
    assert accepted.status_code == 202, accepted.text
    batch_id = accepted.json()["batch_id"]

    async def completed() -> dict[str, Any] | None:
        view = (await harness.http.get(f"/v1/batches/{batch_id}", headers=headers)).json()
        return view if view["state"] == "completed" else None

    view = await eventually(completed, timeout_s=60, message="batch completed")
    assert view["counts"]["issued"] == 2
    assert view["counts"]["failed"] == 1
    results = (await harness.http.get(f"/v1/batches/{batch_id}/results", headers=headers)).json()
    by_seq = {item["seq"]: item for item in results["items"]}
    assert by_seq[0]["state"] == "issued"
    assert by_seq[2]["state"] == "issued"
    assert by_seq[1]["state"] == "failed"
    assert "missing prerequisite" in by_seq[1]["error"]
    assert "'Module 1'" in by_seq[1]["error"]
    assert by_seq[1]["credential_id"] is None

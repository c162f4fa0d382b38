"""Series: the overall credential is issued automatically, once, referencing its components."""

from __future__ import annotations

import pytest
from issuer_support import IssuerHarness

from sceau_dev.testing.polling import eventually

pytestmark = pytest.mark.integration


async def test_series_completion_issues_overall_once(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    modules, overall, series_id = await harness.series(headers)
    component_ids = []
    for module in modules[:2]:
        component_ids.append((await harness.issue(headers, module, "mo@example.org")).json())
    none_yet = await harness.http.get(f"/v1/credentials?achievement_id={overall}", headers=headers)
    assert none_yet.json()["total"] == 0
    # The last module arrives through a batch.
    await harness.http.post(
        "/v1/batches",
        json={"achievement_id": modules[2], "recipients": [{"email": "mo@example.org"}]},
        headers={**headers, "Idempotency-Key": "series-batch"},
    )

    async def overall_issued() -> dict | None:
        page = await harness.http.get(f"/v1/credentials?achievement_id={overall}", headers=headers)
        items = page.json()["items"]
        return items[0] if items else None

    summary = await eventually(overall_issued, timeout_s=60, message="overall credential issued")
    assert summary["series_id"] == series_id
    detail = (
        await harness.http.get(f"/v1/credentials/{summary['credential_id']}", headers=headers)
    ).json()
    evidence = {e["id"] for e in detail["document"]["evidence"]}
    assert {c["id"] for c in component_ids} <= evidence
    assert len(evidence) == 3
    # Issuing a component again (a re-issue) never issues a second overall credential.
    await harness.svc.series.after_issue(
        institution, modules[0], [{"email": "mo@example.org", "email_norm": "mo@example.org"}]
    )
    page = await harness.http.get(f"/v1/credentials?achievement_id={overall}", headers=headers)
    assert page.json()["total"] == 1


async def test_an_award_check_stops_at_the_first_component_a_learner_lacks(
    harness: IssuerHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Issue 19 (the field's seed): every learner of a module batch was checked against every
    # component, one learner after the other. A learner's first module now costs one read.
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    modules, overall, _ = await harness.series(headers, structure="modular")
    learners = [f"bloc{n}@example.org" for n in range(12)]
    for email in learners:
        assert (await harness.issue(headers, modules[0], email)).status_code == 201
    for module in modules[1:]:
        assert (await harness.issue(headers, module, learners[0])).status_code == 201

    credentials = harness.svc.repositories.credentials
    reads: list[str] = []
    holding = credentials.holding

    async def counted(institution_id: str, credential_id: str) -> object:
        reads.append(credential_id)
        return await holding(institution_id, credential_id)

    monkeypatch.setattr(credentials, "holding", counted)
    recipients = [{"email": e, "email_norm": e} for e in learners[1:]]
    assert await harness.svc.series.after_issue(institution, modules[0], recipients) == []
    assert len(reads) == len(recipients)  # block 2 lacking: one read each (three before)
    # The learner holding all three is read in full, block just issued last; the overall
    # credential was issued once, when block 3 came, so this step issues nothing more.
    reads.clear()
    again = [{"email": learners[0], "email_norm": learners[0]}]
    assert await harness.svc.series.after_issue(institution, modules[2], again) == []
    assert len(reads) == 3
    page = await harness.http.get(f"/v1/credentials?achievement_id={overall}", headers=headers)
    [awarded] = page.json()["items"]
    assert awarded["recipient"]["email"] == learners[0]

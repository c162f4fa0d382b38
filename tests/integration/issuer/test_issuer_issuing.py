"""Issuing one credential: signed and valid, idempotent, isolated per tenant, claimable."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import pytest
from issuer_support import IssuerHarness, consume, micro

from sceau_credentials.ob3 import identity_matches, schema_problems
from sceau_shared.events import CredentialIssuedV1, NotificationRequestedV1

pytestmark = pytest.mark.integration


async def test_issued_ob3_v2_credential_is_signed_valid_and_private(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    response = await harness.issue(
        headers,
        achievement,
        "Ada@Example.org",
        recipient={"email": "Ada@Example.org", "name": "Ada Tremblay", "language": "en"},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    document = body["document"]
    assert schema_problems(document) == []  # the official schema, strict
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    assert "Ada@Example.org".lower() not in json.dumps(document).lower()
    subject = document["credentialSubject"]
    assert identity_matches(subject["identifier"][0], "ada@example.org")
    assert subject["achievement"]["inLanguage"] == "en"
    assert document["validUntil"] > document["validFrom"]
    # One status entry (revocation), as a single object: what the official schema allows.
    status = document["credentialStatus"]
    assert isinstance(status, dict), status
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"
    assert status["statusListCredential"].startswith("http://registry.test:8002/v1/status-lists/")
    assert body["achievement_version"] == 1


async def test_idempotency_and_no_double_issue(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    first = await harness.issue(headers, achievement, "bo@example.org", key="k-1")
    again = await harness.issue(headers, achievement, "bo@example.org", key="k-1")
    assert first.status_code == 201
    assert again.status_code == 200
    assert again.json()["credential_id"] == first.json()["credential_id"]
    other_body = await harness.issue(headers, achievement, "cy@example.org", key="k-1")
    assert other_body.status_code == 422
    new_key = await harness.issue(headers, achievement, "BO@example.org", key="k-2")
    assert new_key.status_code == 409
    assert new_key.json()["credential_id"] == first.json()["credential_id"]
    missing = await harness.http.post(
        "/v1/credentials",
        json={"achievement_id": achievement, "recipient": {"email": "x@example.org"}},
        headers=headers,
    )
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "Idempotency-Key"
    listed = (await harness.http.get("/v1/credentials", headers=headers)).json()
    assert listed["total"] == 1


async def test_a_single_issue_checks_results_and_credits_against_the_achievement(
    harness: IssuerHarness,
) -> None:
    """As a batch does: a result beyond the assessments, or credits too many, is a 422 by field."""
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    credit = await harness.published(headers, micro(credit_status="credit", credits=3))
    too_far = await harness.issue(
        headers, credit, "fit@example.org", key="fit-1", results=[{"assessment": 2, "value": "A"}]
    )
    assert too_far.status_code == 422, too_far.text
    assert too_far.headers["content-type"].startswith("application/problem+json")
    body = too_far.json()
    assert [e["field"] for e in body["errors"]] == ["results.0.assessment"]
    assert body["errors"][0]["pointer"] == "/results/0/assessment"
    assert "results.0.assessment" in body["detail_en"]
    assert "results.0.assessment" in body["detail_fr"]
    too_many = await harness.issue(headers, credit, "fit@example.org", credits_earned=4)
    assert too_many.status_code == 422
    assert [e["field"] for e in too_many.json()["errors"]] == ["credits_earned"]
    non_credit = await harness.published(headers, micro())
    on_non_credit = await harness.issue(headers, non_credit, "fit@example.org", credits_earned=1)
    assert on_non_credit.status_code == 422
    assert "non-credit" in on_non_credit.json()["errors"][0]["message"]
    # A refusal changes nothing: the same key, corrected, issues (201, not a replay).
    fitting = await harness.issue(
        headers,
        credit,
        "fit@example.org",
        key="fit-1",
        results=[{"assessment": 1, "value": "A"}],
        credits_earned=3,
    )
    assert fitting.status_code == 201, fitting.text
    assert fitting.json()["document"]["credentialSubject"]["creditsEarned"] == 3
    listed = (await harness.http.get("/v1/credentials", headers=headers)).json()
    assert listed["total"] == 1


async def test_tenant_isolation(harness: IssuerHarness) -> None:
    a = await harness.tenant()
    b = await harness.tenant()
    headers_a = await harness.api_key(a)
    headers_b = await harness.api_key(b)
    achievement = await harness.published(headers_a, micro())
    issued = (await harness.issue(headers_a, achievement, "dee@example.org")).json()
    credential = issued["credential_id"]
    checks = [
        harness.http.get(f"/v1/achievements/{achievement}", headers=headers_b),
        harness.http.get(f"/v1/achievements/{achievement}/versions", headers=headers_b),
        harness.http.put(f"/v1/achievements/{achievement}", json=micro(), headers=headers_b),
        harness.http.post(f"/v1/achievements/{achievement}/publish", headers=headers_b),
        harness.http.get(f"/v1/credentials/{credential}", headers=headers_b),
        harness.http.post(
            f"/v1/credentials/{credential}/revoke",
            json={"reason_code": "misconduct"},
            headers=headers_b,
        ),
        harness.issue(headers_b, achievement, "eve@example.org"),
    ]
    for check in checks:
        response = await check
        assert response.status_code == 404, response.text
    bulk = await harness.http.post(
        "/v1/credentials/status",
        json={"action": "revoke", "reason_code": "misconduct", "credential_ids": [credential]},
        headers=headers_b,
    )
    assert bulk.json()["changed"] == 0
    listed = (await harness.http.get("/v1/credentials", headers=headers_b)).json()
    assert listed["total"] == 0
    mine = await harness.http.get(f"/v1/credentials/{credential}", headers=headers_a)
    assert mine.json()["status"] == "active"


async def test_claim_link_downloads_signed_file(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    issued = (await harness.issue(headers, achievement, "fay@example.org")).json()
    path = urlsplit(issued["claim_url"]).path
    download = await harness.http.get(path)
    assert download.status_code == 200
    assert "attachment" in download.headers["content-disposition"]
    assert download.json() == issued["document"]
    assert (await harness.http.get(path[:-3] + "AAA")).status_code == 404
    assert (await harness.http.get("/v1/claim/not-a-token-at-all")).status_code == 404


async def test_events_reach_kafka_without_contact_data(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    issued = (await harness.issue(headers, achievement, "gus@example.org")).json()
    [event] = await consume(harness.settings.kafka, CredentialIssuedV1, 1)
    assert event.credential_id == issued["id"]
    assert "gus@example.org" not in event.model_dump_json()
    assert [e.purpose.value for e in event.status_entries] == ["revocation"]  # the default
    [note] = await consume(harness.settings.kafka, NotificationRequestedV1, 1)
    assert note.recipient_email == "gus@example.org"
    assert note.claim_url == issued["claim_url"].split("?")[0] or note.claim_url


async def test_publish_names_missing_languages_and_versions_are_pinned(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    incomplete = micro(name={"fr": "Seulement français"})
    created = await harness.http.post("/v1/achievements", json=incomplete, headers=headers)
    achievement = created.json()["achievement_id"]
    refused = await harness.http.post(f"/v1/achievements/{achievement}/publish", headers=headers)
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["name.en"]
    assert refused.json()["errors"][0]["pointer"] == "/name/en"
    edited = await harness.http.put(
        f"/v1/achievements/{achievement}", json=micro(), headers=headers
    )
    assert edited.json()["version"] == 2
    await harness.http.post(f"/v1/achievements/{achievement}/publish", headers=headers)
    v2 = (await harness.issue(headers, achievement, "hal@example.org")).json()
    assert v2["achievement_version"] == 2
    changed = micro(hours=30)
    await harness.http.put(f"/v1/achievements/{achievement}", json=changed, headers=headers)
    await harness.http.post(f"/v1/achievements/{achievement}/publish", headers=headers)
    v3 = (await harness.issue(headers, achievement, "ida@example.org")).json()
    assert v3["achievement_version"] == 3
    assert v3["document"]["credentialSubject"]["achievement"]["timeRequired"] == "PT30H"
    old = (await harness.http.get(f"/v1/credentials/{v2['credential_id']}", headers=headers)).json()
    assert old["document"]["credentialSubject"]["achievement"]["timeRequired"] == "PT15H"


async def test_micro_credential_for_participation_is_refused(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    participation = [{"method": "participation", "name": {"fr": "Présence", "en": "Attendance"}}]
    created = await harness.http.post(
        "/v1/achievements", json=micro(assessments=participation), headers=headers
    )
    achievement = created.json()["achievement_id"]
    refused = await harness.http.post(f"/v1/achievements/{achievement}/publish", headers=headers)
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["code"] == "participation_only"
    badge = micro(assessments=participation, achievement_type="Badge")
    assert await harness.published(headers, badge)


def _in_one_language(value: Any, source: str, target: str) -> Any:
    """``value`` with every FR/EN text map reduced to ``source``'s text, keyed ``target``."""
    if isinstance(value, dict):
        if value and set(value) <= {"fr", "en"} and all(isinstance(v, str) for v in value.values()):
            return {target: value[source]}
        return {k: _in_one_language(v, source, target) for k, v in value.items()}
    if isinstance(value, list):
        return [_in_one_language(v, source, target) for v in value]
    return value


@pytest.mark.parametrize("language", ["en", "es"])
async def test_a_monolingual_provider_publishes_and_issues_in_its_language(
    harness: IssuerHarness, language: str
) -> None:
    """R18: both languages are required only of a bilingual institution."""
    institution = await harness.tenant(languages=(language,))
    headers = await harness.api_key(institution)
    definition = _in_one_language(micro(), "en", language)
    definition.update(default_language=language, instruction_languages=[language])
    achievement = await harness.published(headers, definition)
    issued = await harness.issue(headers, achievement, f"mono-{language}@example.org")
    assert issued.status_code == 201, issued.text
    node = issued.json()["document"]["credentialSubject"]["achievement"]
    assert node["inLanguage"] == language
    assert "related" not in node
    [note] = await consume(harness.settings.kafka, NotificationRequestedV1, 1)
    # The e-mail names the achievement whatever the learner's e-mail language.
    name = note.achievement_name  # the notifier shows the other language when one is empty
    assert (name.fr or name.en) == (name.en or name.fr) == definition["name"][language]
    assert note.learner_page_url is not None
    page = await harness.http.get(urlsplit(note.learner_page_url).path)
    assert page.status_code == 200
    assert definition["name"][language] in page.text


async def test_the_survey_link_goes_to_the_notifier(harness: IssuerHarness) -> None:
    """R75: the achievement's survey link (and delay) travel with the issuance notification."""
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    survey = "https://survey.college.example/s/exit"
    achievement = await harness.published(headers, micro(survey_url=survey, survey_after_days=14))
    issued = await harness.issue(headers, achievement, "survey@example.org")
    assert issued.status_code == 201, issued.text
    assert survey not in json.dumps(issued.json()["document"])  # never in the credential
    [note] = await consume(harness.settings.kafka, NotificationRequestedV1, 1)
    assert (note.survey_url, note.survey_after_days) == (survey, 14)
    refused = await harness.http.post(
        "/v1/achievements", json=micro(survey_after_days=0), headers=headers
    )
    assert refused.status_code == 422

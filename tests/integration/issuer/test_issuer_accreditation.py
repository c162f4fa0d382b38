"""Accreditation scopes: the issuer refuses what the registry did not accredit, and changes nothing.

The registry's ``AccreditationChangedV1`` travels over real Kafka to the running issuer; refusals
are 403 problem details naming the achievement type and what the institution is accredited for.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from issuer_support import IssuerHarness, micro, scope

from sceau_dev.testing.polling import eventually
from sceau_shared.events import (
    AccreditationChangedV1,
    InstitutionRegisteredV1,
    InstitutionStatus,
)
from sceau_shared.kafka import EventPublisher, create_broker

pytestmark = pytest.mark.integration

LEVEL_1 = {
    "name": {"fr": "Niveau 1", "en": "Level 1"},
    "definition_url": "https://example.edu/levels/1",
    "code": "1",
}
LEVEL_2 = {**LEVEL_1, "name": {"fr": "Niveau 2", "en": "Level 2"}, "code": "2"}


def badge(**changes: Any) -> dict[str, Any]:
    return micro(achievement_type="Badge", **changes)


async def publish(harness: IssuerHarness, *events: Any) -> None:
    kafka = harness.settings.kafka
    broker = create_broker(kafka, client_id=f"test-registry-{uuid.uuid4().hex[:6]}")
    async with broker:
        await broker.connect()
        publisher = EventPublisher(broker, kafka, producer="registry")
        for event in events:
            await publisher.publish(event)


async def counts(harness: IssuerHarness, institution: str) -> tuple[int, int, int]:
    db = harness.db
    return (
        await db["credentials"].count_documents({"institution_id": institution}),
        await db["idempotency"].count_documents({"_id": {"$regex": f"^{institution}\\|"}}),
        await db["batches"].count_documents({"institution_id": institution}),
    )


def assert_refused(response: Any, achievement_type: str) -> dict[str, Any]:
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem: dict[str, Any] = response.json()
    assert problem["type"].endswith("/not-accredited")
    assert problem["achievement_type"] == achievement_type
    assert repr(achievement_type) in problem["detail"]
    return problem


async def test_scopes_from_kafka_decide_what_may_be_issued(harness: IssuerHarness) -> None:
    institution = await harness.tenant(accredited_for=None)
    headers = await harness.api_key(institution)
    micro_id = await harness.published(headers, micro())
    badge_id = await harness.published(headers, badge())

    # Before any accreditation from the registry: refused, and nothing is stored.
    early = await harness.issue(headers, micro_id, "early@example.org", key="k-early")
    problem = assert_refused(early, "MicroCredential")
    assert problem["accredited_for"] == []
    assert "no accreditation" in problem["detail"]
    assert await counts(harness, institution) == (0, 0, 0)

    # The registry accredits MicroCredential only (over Kafka, like the real registry does).
    await publish(
        harness,
        AccreditationChangedV1(
            producer="registry",
            institution_id=institution,
            status=InstitutionStatus.ACTIVE,
            scopes=[scope(["MicroCredential"])],
            effective_at=datetime.now(UTC),
        ),
    )
    await eventually(
        lambda: harness.svc.tenants.accreditation(institution),
        timeout_s=60,
        message="accreditation recorded",
    )

    # The same Idempotency-Key now issues: the refusal reserved nothing.
    issued = await harness.issue(headers, micro_id, "early@example.org", key="k-early")
    assert issued.status_code == 201, issued.text

    refused = await harness.issue(headers, badge_id, "b@example.org")
    problem = assert_refused(refused, "Badge")
    assert [s["achievement_types"] for s in problem["accredited_for"]] == [["MicroCredential"]]
    assert "accredited for: MicroCredential" in problem["detail"]

    batch = await harness.http.post(
        "/v1/batches",
        json={"achievement_id": badge_id, "recipients": [{"email": "c@example.org"}]},
        headers={**headers, "Idempotency-Key": "badge-batch"},
    )
    assert_refused(batch, "Badge")
    assert await counts(harness, institution) == (1, 1, 0)

    profile = (await harness.http.get("/v1/institution", headers=headers)).json()
    assert profile["accreditation"]["status"] == "active"
    assert profile["accreditation"]["scopes"][0]["achievement_types"] == ["MicroCredential"]


async def test_levels_dates_roles_and_status(harness: IssuerHarness) -> None:
    institution = await harness.tenant(accredited_for=None)
    headers = await harness.api_key(institution)
    level_1 = await harness.published(headers, micro(achievement_type="Certificate", level=LEVEL_1))
    level_2 = await harness.published(headers, micro(achievement_type="Certificate", level=LEVEL_2))
    course = await harness.published(headers, micro(achievement_type="Course"))
    diploma = await harness.published(headers, micro(achievement_type="Diploma"))
    award = await harness.published(headers, micro(achievement_type="Award"))
    await harness.accredit(
        institution,
        scope(["Certificate"], levels=["2"]),
        scope(["Course"], since=timedelta(days=30), until=timedelta(days=-1)),  # expired
        scope(["Diploma"], since=timedelta(days=-3)),  # starts in three days
        scope(["Award"], role="endorser"),  # may endorse, not issue
    )

    problem = assert_refused(await harness.issue(headers, level_1, "l1@example.org"), "Certificate")
    assert problem["level"] == "1"
    assert "levels 2" in problem["detail"]
    assert (await harness.issue(headers, level_2, "l2@example.org")).status_code == 201
    assert_refused(await harness.issue(headers, course, "c@example.org"), "Course")
    assert_refused(await harness.issue(headers, diploma, "d@example.org"), "Diploma")
    assert_refused(await harness.issue(headers, award, "a@example.org"), "Award")

    # Suspended by the registry: refused whatever the scopes.
    await harness.accredit(institution, scope(["Certificate"]), status=InstitutionStatus.SUSPENDED)
    suspended = await harness.issue(headers, level_2, "l2b@example.org")
    assert suspended.status_code == 403, suspended.text
    assert suspended.json()["type"].endswith("/institution-not-active")
    assert await counts(harness, institution) == (1, 1, 0)


async def test_accreditation_before_registration_and_stale_events(harness: IssuerHarness) -> None:
    institution = f"inst-{uuid.uuid4().hex[:8]}"
    now = datetime.now(UTC)
    newer = AccreditationChangedV1(
        producer="registry",
        institution_id=institution,
        status=InstitutionStatus.ACTIVE,
        scopes=[scope(["MicroCredential"])],
        effective_at=now,
    )
    older = AccreditationChangedV1(
        producer="registry",
        institution_id=institution,
        status=InstitutionStatus.PENDING,
        scopes=[],
        effective_at=now - timedelta(hours=1),
        occurred_at=now - timedelta(hours=1),
    )
    # The accreditation topic is consumed apart from the registration topic: it may come first,
    # and an older event delivered late does not undo a newer one.
    await publish(harness, newer, older)
    await eventually(
        lambda: harness.svc.tenants.accreditation(institution),
        timeout_s=60,
        message="accreditation recorded",
    )
    await publish(
        harness,
        InstitutionRegisteredV1(
            producer="registry",
            institution_id=institution,
            legal_name={"fr": "Collège tôt", "en": "Early College"},
            category="college",
            jurisdiction="CA-ON",
        ),
    )
    await eventually(
        lambda: harness.db["institutions"].find_one({"_id": institution}),
        timeout_s=60,
        message="institution registered",
    )
    assert not await harness.svc.tenants.apply_accreditation(older)  # stale: ignored
    record = await harness.svc.tenants.accreditation(institution)
    assert record is not None
    assert record.status == "active"
    assert record.event_id == str(newer.event_id)
    tenant = await harness.svc.tenants.get(institution)
    assert tenant.status == "active"
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    assert (await harness.issue(headers, achievement, "x@example.org")).status_code == 201


async def test_series_overall_outside_accreditation(harness: IssuerHarness) -> None:
    institution = await harness.tenant(accredited_for=["MicroCredential", "Certificate"])
    headers = await harness.api_key(institution)
    modules = [
        await harness.published(headers, micro(name={"fr": f"M{n}", "en": f"M{n}"})) for n in (1, 2)
    ]
    diploma = await harness.published(headers, micro(achievement_type="Diploma"))
    certificate = await harness.published(headers, micro(achievement_type="Certificate"))
    body = {
        "name": {"fr": "Parcours", "en": "Pathway"},
        "components": [{"achievement_id": m} for m in modules],
    }
    refused = await harness.http.post(
        "/v1/series", json={**body, "overall_achievement_id": diploma}, headers=headers
    )
    assert_refused(refused, "Diploma")
    assert await harness.db["series"].count_documents({"institution_id": institution}) == 0
    created = await harness.http.post(
        "/v1/series", json={**body, "overall_achievement_id": certificate}, headers=headers
    )
    assert created.status_code == 201, created.text
    # The registry then withdraws Certificate: components are still issued, the overall is not.
    await harness.accredit(institution, scope(["MicroCredential"]))
    for module in modules:
        assert (await harness.issue(headers, module, "s@example.org")).status_code == 201
    page = await harness.http.get(f"/v1/credentials?achievement_id={certificate}", headers=headers)
    assert page.json()["total"] == 0

"""Governance against real Kafka and FerretDB: events published, as-of answers, audit log."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from registry_support import OPERATOR, consume

from sceau_dev.testing.polling import eventually
from sceau_shared.events import (
    AccreditationChangedV1,
    DidMethod,
    InstitutionRegisteredV1,
    InstitutionStatus,
)
from sceau_shared.settings import KafkaSettings, MongoSettings

pytestmark = pytest.mark.integration

HOSTED_DID = "did:web:127.0.0.1%3A8002:institutions:cegep-a"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def register(http: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    response = await post_registration(http, **overrides)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def post_registration(http: httpx.AsyncClient, **overrides: Any) -> httpx.Response:
    body = {
        "institution_id": "cegep-a",
        "legal_name": {"fr": "Cégep A", "en": "College A"},
        "category": "public-college",
        "jurisdiction": "CA-QC",
        "domain": "cegep-a.example",
        "qa_body": "Commission d'évaluation",
        "contact_email": "registrariat@cegep-a.example",
        "did_method": "hosted-web",
        **overrides,
    }
    return await http.post("/v1/admin/institutions", json=body, headers=OPERATOR)


async def test_register_publishes_institution_registered(
    http: httpx.AsyncClient, kafka_settings: KafkaSettings
) -> None:
    created = await register(http)
    assert created["status"] == "pending"
    assert created["dids"] == [HOSTED_DID]
    (event,) = await consume(kafka_settings, InstitutionRegisteredV1, 1)
    assert event.institution_id == "cegep-a"
    assert event.did_method is DidMethod.HOSTED_WEB
    assert event.hosted_did == HOSTED_DID
    assert event.legal_name.fr == "Cégep A"
    again = await http.post(
        "/v1/admin/institutions",
        json={
            "institution_id": "cegep-a",
            "legal_name": {"fr": "X"},
            "category": "university",
            "jurisdiction": "CA-ON",
        },
        headers=OPERATOR,
    )
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"


async def test_a_monolingual_provider_is_registered_with_its_language(
    http: httpx.AsyncClient, kafka_settings: KafkaSettings
) -> None:
    """R18: the issuer learns the institution's languages (bilingual only when FR+EN)."""
    created = await register(
        http,
        institution_id="academy-en",
        legal_name={"en": "Academy"},
        languages=["en"],
        approvals=["ministry-approval", "osap-eligible"],
    )
    assert created["languages"] == ["en"]
    # R59: the QA facts recorded at registration are in the trust answer verifiers read.
    (did,) = created["dids"]
    answer = (await http.get(f"/v1/issuers/{did.replace('%', '%25')}")).json()
    assert answer["qa_body"] == "Commission d'évaluation"
    assert answer["approvals"] == ["ministry-approval", "osap-eligible"]
    (event,) = await consume(kafka_settings, InstitutionRegisteredV1, 1)
    assert event.languages == ["en"]
    refused = await http.post(
        "/v1/admin/institutions",
        json={
            "legal_name": {"en": "X"},
            "category": "employer",
            "jurisdiction": "US-NY",
            "languages": ["en", "EN"],
        },
        headers=OPERATOR,
    )
    assert refused.status_code == 422
    assert refused.headers["content-type"] == "application/problem+json"


async def test_accreditation_as_of_the_issuance_date(
    http: httpx.AsyncClient, kafka_settings: KafkaSettings
) -> None:
    now = datetime.now(UTC)
    await register(http, effective_at=iso(now - timedelta(days=90)))
    t_active = now - timedelta(days=30)
    steps = [
        ("status", {"status": "active", "reason": "approved", "effective_at": iso(t_active)}),
        ("scopes", {"achievement_types": ["MicroCredential"], "levels": ["1"],
                    "valid_from": iso(now - timedelta(days=60)), "reason": "mandate",
                    "accreditor": "Ministère"}),
        ("status", {"status": "suspended", "reason": "audit finding",
                    "effective_at": iso(now - timedelta(days=10))}),
    ]  # fmt: skip
    for kind, body in steps:
        response = await http.post(
            f"/v1/admin/institutions/cegep-a/{kind}", json=body, headers=OPERATOR
        )
        assert response.status_code in (200, 201), response.text

    async def ask(moment: datetime) -> dict[str, Any]:
        did = HOSTED_DID.replace("%", "%25")
        response = await http.get(f"/v1/issuers/{did}", params={"at": iso(moment)})
        assert response.status_code == 200
        return dict(response.json())

    before = await ask(now - timedelta(days=20))
    assert before["registered"] is True
    assert before["status"] == "active"
    assert before["accredited"] is True
    assert before["accredited_types"] == ["MicroCredential"]
    assert before["name"] == {"fr": "Cégep A", "en": "College A"}
    after = await ask(now - timedelta(days=5))
    assert after["status"] == "suspended"
    assert after["accredited"] is False
    assert (await ask(now - timedelta(days=40)))["status"] == "pending"
    stranger = await http.get(
        "/v1/issuers/did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
    )
    assert stranger.status_code == 200
    assert stranger.json()["registered"] is False

    changes = await consume(kafka_settings, AccreditationChangedV1, 3)
    assert [c.status for c in changes] == [
        InstitutionStatus.ACTIVE,
        InstitutionStatus.ACTIVE,
        InstitutionStatus.SUSPENDED,
    ]
    assert changes[-1].dids == [HOSTED_DID]
    assert changes[-1].scopes[0].achievement_types == ["MicroCredential"]

    former = await http.post(
        "/v1/admin/institutions/cegep-a/status",
        json={"status": "pending", "reason": "nope"},
        headers=OPERATOR,
    )
    assert former.status_code == 409


async def test_public_list_filters_and_pages(http: httpx.AsyncClient) -> None:
    for n in range(5):
        await register(
            http,
            institution_id=f"inst-{n}",
            legal_name={"fr": f"Établissement {n}", "en": f"Institution {n}"},
            category="university" if n % 2 else "employer",
            did_method="key",
            contact_email=None,
        )
    page = (await http.get("/v1/institutions", params={"page_size": 2, "page": 2})).json()
    assert page["total"] == 5
    assert [i["institution_id"] for i in page["items"]] == ["inst-2", "inst-3"]
    universities = (await http.get("/v1/institutions", params={"category": "university"})).json()
    assert [i["institution_id"] for i in universities["items"]] == ["inst-1", "inst-3"]
    found = (await http.get("/v1/institutions", params={"q": "établissement 4"})).json()
    assert [i["institution_id"] for i in found["items"]] == ["inst-4"]
    assert "contact_email" not in found["items"][0]
    pending = (await http.get("/v1/institutions", params={"status": "active"})).json()
    assert pending["total"] == 0


async def test_audit_log_is_append_only_in_the_database(
    http: httpx.AsyncClient, mongo_client: Any, mongo_settings: MongoSettings
) -> None:
    audit = mongo_client[mongo_settings.database]["audit"]
    await register(http)
    await http.post(
        "/v1/admin/institutions/cegep-a/status",
        json={"status": "active", "reason": "approved"},
        headers=OPERATOR,
    )
    before = [doc async for doc in audit.find({}).sort("at", 1)]
    assert [d["action"] for d in before] == ["institution.registered", "institution.active"]
    assert all(d["actor"] == "alice" and d["reason"] for d in before)
    for body in (
        {"status": "suspended", "reason": "complaint"},
        {"status": "active", "reason": "resolved"},
        {"status": "former", "reason": "closed"},
    ):
        response = await http.post(
            "/v1/admin/institutions/cegep-a/status", json=body, headers=OPERATOR
        )
        assert response.status_code == 200
    after = [doc async for doc in audit.find({}).sort("at", 1)]
    assert len(after) == 5
    by_id = {d["_id"]: d for d in after}
    for old in before:
        assert by_id[old["_id"]] == old  # never updated
    listed = await http.get(
        "/v1/admin/audit", params={"institution_id": "cegep-a"}, headers=OPERATOR
    )
    assert [e["action"] for e in listed.json()["items"]][-1] == "institution.former"
    assert listed.json()["items"][2]["reason"] == "complaint"


async def test_concurrent_changes_are_all_kept(
    http: httpx.AsyncClient, kafka_settings: KafkaSettings
) -> None:
    """FerretDB loses concurrent updates of one document; the service serializes its own."""
    await register(http)
    bodies = [
        {"achievement_types": [f"Type{n}"], "valid_from": "2020-01-01T00:00:00Z", "reason": "r"}
        for n in range(8)
    ]
    responses = await asyncio.gather(
        *(
            http.post("/v1/admin/institutions/cegep-a/scopes", json=body, headers=OPERATOR)
            for body in bodies
        ),
        http.post(
            "/v1/admin/institutions/cegep-a/status",
            json={"status": "active", "reason": "approved"},
            headers=OPERATOR,
        ),
    )
    assert [r.status_code for r in responses] == [201] * 8 + [200]
    shown = (await http.get("/v1/institutions/cegep-a")).json()
    assert sorted(shown["accredited_types"]) == sorted(f"Type{n}" for n in range(8))
    assert shown["status"] == "active"
    published = await consume(kafka_settings, AccreditationChangedV1, 9)
    assert len({e.event_id for e in published}) == 9


async def test_events_and_audit_lost_in_a_crash_are_written_at_restart(
    http: httpx.AsyncClient,
    registry_app: Any,
    mongo_client: Any,
    mongo_settings: MongoSettings,
) -> None:
    await register(http)
    await http.post(
        "/v1/admin/institutions/cegep-a/status",
        json={"status": "active", "reason": "approved"},
        headers=OPERATOR,
    )
    db = mongo_client[mongo_settings.database]

    async def relayed() -> bool:
        return bool(await db["events"].count_documents({"published": False}) == 0)

    await eventually(relayed, timeout_s=30, message="outbox relayed")
    ids = sorted([d["_id"] async for d in db["events"].find({})])
    assert len(ids) == 2
    # Simulate a crash right after the state change: its audit entry and event never written.
    last_audit = await db["audit"].find_one({"action": "institution.active"})
    await db["audit"].delete_one({"_id": last_audit["_id"]})
    await db["events"].delete_one({"_id": ids[-1]})
    await db["events"].delete_one({"_id": ids[0]})
    governance = registry_app.state.graph.governance
    assert await governance.reconcile() == 3
    assert sorted([d["_id"] async for d in db["events"].find({})]) == ids  # same event ids
    assert await db["audit"].find_one({"_id": last_audit["_id"]}) is not None
    assert await governance.reconcile() == 0


async def test_a_did_belongs_to_one_institution(http: httpx.AsyncClient, registry_app: Any) -> None:
    """Issue 18: one did:web could be registered (or linked) to two institutions."""
    first = await register(
        http, institution_id="college-one", did_method="web", domain="one.college.example"
    )
    assert first["dids"] == ["did:web:one.college.example"]
    taken = await post_registration(
        http, institution_id="college-two", did_method="web", domain="one.college.example"
    )
    assert taken.status_code == 409, taken.text
    assert taken.headers["content-type"] == "application/problem+json"
    assert taken.json()["type"].endswith("/did-taken")
    missing = await http.get("/v1/admin/institutions/college-two", headers=OPERATOR)
    assert missing.status_code == 404  # nothing stored for the refused registration
    # A key event that would attach the DID to another institution is not applied either.
    await register(http, institution_id="college-three")
    governance = registry_app.state.graph.governance
    linked = await governance.link_did("college-three", "did:web:one.college.example")
    assert "did:web:one.college.example" not in linked.dids
    issuer = await http.get("/v1/issuers/did:web:one.college.example")
    assert issuer.json()["institution_id"] == "college-one"

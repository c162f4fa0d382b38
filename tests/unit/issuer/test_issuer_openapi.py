"""The issuer's OpenAPI document describes every answer, and the answers keep their bytes.

Every route declares its answer model; the models must not change what the routes sent when they
returned plain dictionaries (FastAPI's ``jsonable_encoder``): same keys, same order, same date
format, no ``null`` for a field a record lacks.
"""

from __future__ import annotations

import base64
import json
import os
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from bson.tz_util import utc as bson_utc
from fastapi.encoders import jsonable_encoder
from pydantic import SecretStr, TypeAdapter

from sceau_issuer.api.views import (
    achievement_summary,
    batch_fields,
    batch_view,
    credential_fields,
    credential_summary,
    series_view,
    version_fields,
    version_view,
)
from sceau_issuer.app import create_api
from sceau_issuer.schemas import (
    AchievementSummary,
    AchievementVersionView,
    BatchItemList,
    BatchView,
    BulkStatusResult,
    CredentialDetail,
    CredentialList,
    CredentialSummary,
    InstitutionView,
    KeyView,
    ReportSummary,
    SeriesView,
)
from sceau_issuer.settings import IssuerSettings
from sceau_issuer.tenants.models import KeyRecord, KeyState

#: Every route of the issuer's own API (health and readiness come from the shared skeleton).
# + GET /v1/shares/{token}, GET /v1/public/credentials/{id}/supersession; 6 are the LMS hook and
# its management; 4 insights (report, page, page link, targets); 5 endorsements (sign, list signed,
# list offered, accept, reject).
ROUTES = 46

# Read back from MongoDB (``tz_aware``): bson's UTC; written by the issuer: datetime.UTC.
STORED = datetime(2026, 3, 1, 12, 30, 5, 123000, tzinfo=bson_utc)
FRESH = datetime(2026, 3, 1, 12, 30, 5, 123456, tzinfo=UTC)


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    settings = IssuerSettings(master_key=SecretStr(base64.b64encode(os.urandom(32)).decode()))
    document: dict[str, Any] = create_api(settings).openapi()
    return document


def test_every_route_describes_its_success_answers(openapi: dict[str, Any]) -> None:
    operations = [
        (verb.upper(), path, operation)
        for path, item in openapi["paths"].items()
        if path.startswith("/v1/")
        for verb, operation in item.items()
    ]
    assert len(operations) == ROUTES
    undescribed = []
    for verb, path, operation in operations:
        successes = {c: r for c, r in operation["responses"].items() if c.startswith("2")}
        assert successes, f"{verb} {path} has no 2xx answer"
        for code, response in successes.items():
            schemas = [m.get("schema") for m in (response.get("content") or {}).values()]
            if not schemas or not all(schemas):
                undescribed.append(f"{verb} {path} {code}")
    assert not undescribed, undescribed


def test_answers_reference_named_models(openapi: dict[str, Any]) -> None:
    detail = openapi["paths"]["/v1/credentials/{credential_id}"]["get"]["responses"]["200"]
    schema = detail["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/CredentialDetail"}
    properties = openapi["components"]["schemas"]["CredentialDetail"]["properties"]
    assert properties["issued_at"]["format"] == "date-time"
    did = openapi["paths"]["/v1/institution/did.json"]["get"]["responses"]["200"]["content"]
    assert list(did) == ["application/did+ld+json"]


# --- the answers keep their bytes --------------------------------------------------------------


def before(body: Any) -> str:
    """What a route returning ``body`` without an answer model sent."""
    return json.dumps(jsonable_encoder(body), ensure_ascii=False, separators=(",", ":"))


def after(model: Any, body: Any, *, exclude_unset: bool = False) -> str:
    """What a route returning ``body`` with ``response_model=model`` sends."""
    adapter: TypeAdapter[Any] = TypeAdapter(model)
    value = adapter.validate_python(body)
    data = adapter.dump_python(value, mode="json", by_alias=True, exclude_unset=exclude_unset)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def stored_credential(**changes: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": "0b7c2d1e-1111-4222-8333-944455556666",
        "institution_id": "college-a",
        "achievement_id": "a1",
        "achievement_version": 1,
        "achievement_type": "MicroCredential",
        "profile": "ob3-v2",
        "issuer_did": "did:key:z6Mk",
        "key_id": "k1",
        "recipient": {
            "email": "Learner@example.org",
            "name": "Learner",
            "did": None,
            "language": "fr",
            "email_norm": "learner@example.org",
        },
        "dedupe": "d" * 64,
        "idem": "college-a|key",
        "status": "active",
        "reason_code": None,
        "status_alloc": "fam/0",
        "status_index": 4242,
        "status_lists": {"revocation": "fam.0.revocation", "suspension": "fam.0.suspension"},
        "issued_at": STORED,
        "valid_until": STORED + timedelta(days=700),
        "batch_id": None,
        "supersedes": None,
        "superseded_by": None,
        "series_id": None,
        "document": {"@context": ["https://www.w3.org/ns/credentials/v2"], "proof": {"x": 1.5}},
    }
    doc.update(changes)
    return doc


@pytest.mark.parametrize(
    "doc",
    [
        stored_credential(),
        stored_credential(issued_at=FRESH, valid_until=None, document="eyJ.a.b"),
        stored_credential(status="revoked", reason_code="superseded", status_changed_at=STORED),
        stored_credential(superseded_by="x", status_changed_at=STORED),
    ],
    ids=["stored", "fresh-jwt", "changed", "superseded"],
)
def test_credential_answers_keep_their_bytes(doc: dict[str, Any]) -> None:
    summary = credential_fields(doc)
    assert after(CredentialSummary, credential_summary(doc), exclude_unset=True) == before(summary)
    detail = {**summary, "document": doc["document"], "claim_url": "http://i/v1/claim/t"}
    assert after(CredentialDetail, detail, exclude_unset=True) == before(detail)
    page = {"items": [summary, summary], "page": 1, "page_size": 50, "total": 2}
    assert after(CredentialList, page, exclude_unset=True) == before(page)


def test_bulk_status_answers_keep_their_bytes() -> None:
    body = {
        "results": [
            {"credential_id": "a", "status": "revoked", "ok": True},
            {"credential_id": "b", "ok": False, "error": "cannot revoke a revoked credential"},
        ],
        "changed": 1,
        "refused": 1,
    }
    assert after(BulkStatusResult, body, exclude_unset=True) == before(body)


def test_achievement_answers_keep_their_bytes() -> None:
    definition = {"achievement_type": "MicroCredential", "name": {"fr": "A", "en": "B"}, "hours": 2}
    draft = {
        "_id": "a1@1",
        "achievement_id": "a1",
        "institution_id": "college-a",
        "version": 1,
        "state": "draft",
        "definition": definition,
        "created_at": STORED,
        "published_at": None,
    }
    published = {**draft, "state": "published", "published_at": FRESH}
    for doc in (draft, published):
        assert after(AchievementVersionView, version_view(doc)) == before(version_fields(doc))
    stored = {"achievement_id": "a1", "latest_version": 1, "published_version": None}
    summary = {**stored, "latest": version_fields(draft)}
    assert after(AchievementSummary, achievement_summary({**stored, "latest": draft})) == before(
        summary
    )
    assert after(list[AchievementVersionView], [version_view(draft)]) == before(
        [version_fields(draft)]
    )


def test_series_answers_keep_their_bytes() -> None:
    doc = {
        "_id": "s1",
        "institution_id": "college-a",
        "name": {"fr": "Parcours", "en": "Pathway"},
        "structure": "modular",
        "components": [{"achievement_id": "m1", "required": True}],
        "electives_required": 0,
        "overall_achievement_id": "o",
        "created_at": STORED,
    }
    answered = dict(doc)
    body = {**answered, "series_id": answered.pop("_id")}  # what the route used to send
    assert after(SeriesView, series_view(doc)) == before(body)


def test_batch_answers_keep_their_bytes() -> None:
    running = {
        "_id": "b1",
        "state": "running",
        "achievement_id": "a1",
        "achievement_version": 2,
        "profile": "ob3-v2",
        "total": 3,
        "counts": {"issued": 1, "duplicate": 0, "failed": 0},
        "created_at": STORED,
        "started_at": FRESH,
        "completed_at": None,
    }
    completed = {
        **running,
        "state": "completed",
        "completed_at": STORED,
        "report": {"total": 3, "issued": 3, "duplicate": 0, "failed": 0, "processing_s": 1.25},
    }
    empty = {**running, "total": 0, "counts": {}}
    for doc in (running, completed, empty):
        assert after(BatchView, batch_view(doc)) == before(batch_fields(doc))
    items = {
        "items": [
            {"seq": 0, "email": "a@x.org", "state": "issued", "credential_id": "c", "error": None},
            {
                "seq": 1,
                "email": "a@x.org",
                "state": "duplicate",
                "credential_id": None,
                "error": "repeated in this batch",
            },
        ],
        "page": 1,
        "page_size": 50,
        "total": 2,
    }
    assert after(BatchItemList, items) == before(items)


def test_institution_answers_keep_their_bytes() -> None:
    key = KeyRecord(
        key_id="k1",
        version=1,
        did="did:key:z6Mk",
        verification_method="did:key:z6Mk#z6Mk",
        public_key_multibase="z6Mk",
        secret={"ct": "x"},
        state=KeyState.ROTATED,
        active_from=FRESH,
        rotated_at=datetime(2026, 4, 1, tzinfo=UTC),
    )
    view = key.public_view()
    assert after(KeyView, view) == before(view)
    profile = {
        "institution_id": "college-a",
        "name": {"fr": "Collège", "en": "College"},
        "languages": ["fr", "en"],
        "bilingual": True,
        "did": "did:key:z6Mk",
        "did_method": "key",
        "status": "active",
        "active_key_id": "k1",
        "active_p256_key_id": None,
        "keys": [view],
    }
    for accreditation in (
        None,
        {
            "status": "active",
            "scopes": [{"achievement_types": ["MicroCredential"], "levels": [], "role": "issuer"}],
            "effective_at": FRESH.isoformat(),
        },
    ):
        for settings in (
            {
                "suspension": False,
                "jwt_algorithm": "ES256",
                "selective_disclosure": False,
                "updated_at": None,
            },
            {
                "suspension": True,
                "jwt_algorithm": "EdDSA",
                "selective_disclosure": True,
                "updated_at": FRESH,
            },
        ):
            body = {**profile, "accreditation": accreditation, "settings": settings}
            assert after(InstitutionView, body) == before(body)
    report = {
        "suppression_threshold": 5,
        "generated_at": datetime.now().astimezone().isoformat(),
        "achievements": [{"achievement_id": "a1", "counts": {"active": 7, "revoked": None}}],
    }
    assert after(ReportSummary, report) == before(report)

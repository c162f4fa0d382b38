"""Status entries: one by default (official schema, strict), suspension only for the opted-in.

Every credential the issuer signs by default carries one ``credentialStatus`` object (revocation),
and passes 1EdTech's Open Badges 3.0 JSON Schema with no relaxation, single and batch alike.
Suspending (or reinstating) such a credential is a 409 that explains itself in French and English
and changes nothing. An institution that turns suspension on (``PUT /v1/institution/settings``)
gets a [revocation, suspension] array on the ``ob3-v2`` credentials issued from then on, and those
can be suspended and reinstated end to end (the suspension list's bit is published set, then
cleared). The verifier's side of that is ``tests/e2e/test_verify_flow.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from issuer_support import IssuerHarness, micro
from learner_support import issued_with_page, share_token, share_urls

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.ob3 import validate_for_signing
from sceau_credentials.ob3.validation import schema_problems
from sceau_credentials.status.bitstring import decode_bitstring_status_list
from sceau_dev.testing.polling import eventually
from sceau_issuer.apikeys.service import Scope
from sceau_issuer.issuing.repository import read_form
from sceau_shared.events import StatusListPublishedV1

pytestmark = pytest.mark.integration

PROBLEM = "application/problem+json"


def strictly_valid(document: dict[str, Any]) -> None:
    """The credential passes the official schema and the pre-signing check, both strict."""
    assert schema_problems(document) == []
    validate_for_signing({k: v for k, v in document.items() if k != "proof"})
    status = document["credentialStatus"]
    assert isinstance(status, dict), status
    assert status["type"] == "BitstringStatusListEntry"
    assert status["statusPurpose"] == "revocation"


async def stored(harness: IssuerHarness, credential_id: str) -> dict[str, Any]:
    doc = read_form(await harness.db["credentials"].find_one({"_id": credential_id}))
    assert doc is not None
    return doc


async def test_default_credentials_carry_one_entry_and_pass_the_schema(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    settings = await harness.http.get("/v1/institution/settings", headers=headers)
    assert settings.status_code == 200
    defaults = {
        "suspension": False,
        "jwt_algorithm": "ES256",
        "selective_disclosure": False,
        "updated_at": None,
    }
    assert settings.json() == defaults
    profile = (await harness.http.get("/v1/institution", headers=headers)).json()
    assert profile["settings"] == defaults
    achievement = await harness.published(headers, micro())

    single = await harness.issue(headers, achievement, "one@example.org")
    assert single.status_code == 201, single.text
    strictly_valid(single.json()["document"])
    doc = await stored(harness, single.json()["credential_id"])
    assert list(doc["status_lists"]) == ["revocation"]

    body = {
        "achievement_id": achievement,
        "recipients": [{"email": f"cohort{n}@example.org"} for n in range(5)],
    }
    accepted = await harness.http.post(
        "/v1/batches", json=body, headers={**headers, "Idempotency-Key": uuid.uuid4().hex}
    )
    assert accepted.status_code == 202, accepted.text
    batch_id = accepted.json()["batch_id"]

    async def completed() -> bool:
        state = (await harness.http.get(f"/v1/batches/{batch_id}", headers=headers)).json()
        return bool(state["state"] == "completed")

    await eventually(completed, timeout_s=120, message="batch completed")
    issued = [d async for d in harness.db["credentials"].find({"batch_id": batch_id})]
    assert len(issued) == 5
    for doc in issued:
        strictly_valid(read_form(doc)["document"])  # stored as text (issuing/repository.py)
        assert list(doc["status_lists"]) == ["revocation"]


async def test_suspending_a_default_credential_is_refused_and_changes_nothing(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    issued = (await harness.issue(headers, achievement, "kept@example.org")).json()
    cid = issued["credential_id"]
    before = await stored(harness, cid)
    for action in ("suspend", "reinstate"):
        refused = await harness.http.post(
            f"/v1/credentials/{cid}/{action}", json={"reason_code": "under-review"}, headers=headers
        )
        assert refused.status_code == 409, refused.text
        assert refused.headers["content-type"].startswith(PROBLEM)
        problem = refused.json()
        assert problem["type"].endswith("/status-transition-refused")
        assert problem["reason"] == "no-suspension-entry"
        assert problem["status"] == "active"
        assert "no suspension entry" in problem["detail_en"]
        assert "pas d'entrée de suspension" in problem["detail_fr"]
        assert "/v1/institution/settings" in problem["detail_en"]
    bulk = await harness.http.post(
        "/v1/credentials/status",
        json={"action": "suspend", "reason_code": "under-review", "credential_ids": [cid]},
        headers=headers,
    )
    assert bulk.status_code == 200, bulk.text
    assert (bulk.json()["changed"], bulk.json()["refused"]) == (0, 1)
    after = await stored(harness, cid)
    assert after["status"] == "active"
    assert "status_changed_at" not in after
    assert len(after.get("outbox", [])) == len(before.get("outbox", []))
    assert await harness.db["status_changes"].count_documents({"credential_id": cid}) == 0
    # Revocation stays available.
    revoked = await harness.http.post(
        f"/v1/credentials/{cid}/revoke", json={"reason_code": "issued-in-error"}, headers=headers
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["status"] == "revoked"


async def test_settings_refusals_are_bilingual_problems(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    manager = await harness.api_key(institution)
    reader = await harness.api_key(institution, Scope.READ)
    forbidden = await harness.http.put(
        "/v1/institution/settings", json={"suspension": True}, headers=reader
    )
    assert forbidden.status_code == 403
    assert (await harness.http.get("/v1/institution/settings", headers=reader)).status_code == 200
    malformed = await harness.http.put(
        "/v1/institution/settings",
        content=b"{not json",
        headers={**manager, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400, malformed.text
    assert malformed.headers["content-type"].startswith(PROBLEM)
    assert malformed.json()["type"].endswith("/settings-malformed")
    assert malformed.json()["detail_fr"].startswith("le corps")
    for body, field in (
        ({"suspension": "yes"}, "suspension"),
        ({"suspension": 1}, "suspension"),
        ({}, "suspension"),
        ({"suspension": True, "revocation": False}, "revocation"),
        ([True], ""),
        ("on", ""),
    ):
        refused = await harness.http.put("/v1/institution/settings", json=body, headers=manager)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"].startswith(PROBLEM)
        problem = refused.json()
        assert problem["type"].endswith("/settings-invalid")
        assert "suspension" in problem["detail_en"]
        assert "réglages" in problem["detail_fr"]
        assert field in {e["field"] for e in problem["errors"]}, problem
    settings = (await harness.http.get("/v1/institution/settings", headers=reader)).json()
    assert settings["suspension"] is False  # nothing refused was stored


def _bit(doc: dict[str, Any] | None, purpose: str, index: int) -> bool | None:
    """The bit of ``index`` in the latest published list of ``purpose`` (None: not published)."""
    events = [
        StatusListPublishedV1.model_validate_json(e["payload"])
        for e in (doc or {}).get("outbox", [])
    ]
    mine = [e for e in events if e.purpose.value == purpose]
    if not mine:
        return None
    latest = max(mine, key=lambda e: e.version)
    encoded = latest.credential["credentialSubject"]["encodedList"]  # type: ignore[index]
    return bool(decode_bitstring_status_list(encoded).get_bit(index))


async def test_opted_in_credentials_suspend_and_reinstate(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    earlier = (await harness.issue(headers, achievement, "early@example.org")).json()

    turned_on = await harness.turn_on_suspension(headers)
    assert turned_on["updated_at"]
    again = await harness.http.put(
        "/v1/institution/settings", json={"suspension": True}, headers=headers
    )
    assert again.json() == turned_on  # repeating the setting changes nothing
    profile = (await harness.http.get("/v1/institution", headers=headers)).json()
    assert profile["settings"]["suspension"] is True

    # Credentials issued before keep their single entry: still not suspendable.
    strictly_valid(earlier["document"])
    refused = await harness.http.post(
        f"/v1/credentials/{earlier['credential_id']}/suspend",
        json={"reason_code": "under-review"},
        headers=headers,
    )
    assert refused.status_code == 409

    later = (await harness.issue(headers, achievement, "late@example.org")).json()
    document = later["document"]
    entries = document["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    assert len({e["statusListIndex"] for e in entries}) == 1
    # The documented cost: the official schema's single-entry rule is not met.
    assert [p.path for p in schema_problems(document)] == ["credentialStatus"]
    assert schema_problems(document, allow_status_array=True) == []
    cid, index = later["credential_id"], int(entries[0]["statusListIndex"])
    suspension_url = entries[1]["statusListCredential"]
    alloc = (await stored(harness, cid))["status_alloc"]

    async def suspension_bit(expected: bool) -> bool:
        doc = await harness.db["status_lists"].find_one({"_id": alloc})
        return _bit(doc, "suspension", index) is expected

    async def change(action: str, reason: str = "under-review") -> str:
        answer = await harness.http.post(
            f"/v1/credentials/{cid}/{action}", json={"reason_code": reason}, headers=headers
        )
        assert answer.status_code == 200, answer.text
        return str(answer.json()["status"])

    assert await change("suspend") == "suspended"
    await eventually(
        lambda: suspension_bit(True), timeout_s=30, message="suspension bit published set"
    )
    doc = await harness.db["status_lists"].find_one({"_id": alloc})
    assert _bit(doc, "revocation", index) is False
    published = [
        StatusListPublishedV1.model_validate_json(e["payload"]) for e in (doc or {})["outbox"]
    ]
    assert suspension_url in {e.list_url for e in published if e.purpose.value == "suspension"}

    assert await change("reinstate", "other") == "active"
    await eventually(
        lambda: suspension_bit(False), timeout_s=30, message="suspension bit published cleared"
    )

    # Turning it off again: new credentials are single-entry; the opted-in one stays suspendable.
    off = await harness.http.put(
        "/v1/institution/settings", json={"suspension": False}, headers=headers
    )
    assert off.status_code == 200, off.text
    assert off.json()["suspension"] is False
    strictly_valid(
        (await harness.issue(headers, achievement, "after@example.org")).json()["document"]
    )
    assert await change("suspend") == "suspended"


async def test_share_derived_credentials_inherit_the_entries(harness: IssuerHarness) -> None:
    """A share that withholds the grade is signed anew with the original's status entries."""
    for suspension in (False, True):
        institution = await harness.tenant()
        if suspension:
            await harness.turn_on_suspension(await harness.api_key(institution))
        _, detail, path = await issued_with_page(
            harness, f"share{int(suspension)}@example.org", institution=institution
        )
        assert (await harness.http.post(f"{path}/accept")).status_code == 303
        created = await harness.http.post(
            f"{path}/shares", data={"label": "Employeur", "hide_result": "1"}
        )
        assert created.status_code == 303, created.text
        [url] = share_urls((await harness.http.get(path)).text)
        shared = await harness.http.get(f"/v1/shares/{share_token(url)}")
        assert shared.status_code == 200, shared.text
        document = shared.json()["document"]
        assert "result" not in document["credentialSubject"]
        assert document["credentialStatus"] == detail["document"]["credentialStatus"]
        assert (await verify_proof(document, DidKeyResolver())).verified
        if suspension:
            assert len(document["credentialStatus"]) == 2
            assert [p.path for p in schema_problems(document)] == ["credentialStatus"]
        else:
            strictly_valid(document)

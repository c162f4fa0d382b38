"""Revoke, suspend, reinstate, bulk changes, re-issue; lists re-signed once per burst."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from issuer_support import IssuerHarness, consume, micro

from sceau_credentials.status.bitstring import decode_bitstring_status_list
from sceau_dev.testing.polling import eventually
from sceau_shared.events import (
    CredentialStatusChangedV1,
    NotificationKind,
    NotificationRequestedV1,
    StatusChange,
    StatusListPublishedV1,
)

pytestmark = pytest.mark.integration


async def _lists_published(harness: IssuerHarness) -> int:
    total = 0
    async for doc in harness.db["status_lists"].find({}):
        total += int(doc.get("version", 0))
    return total


async def test_revoke_suspend_reinstate_and_list_publication(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    await harness.turn_on_suspension(headers)  # off by default: suspension is opted in to
    achievement = await harness.published(headers, micro())
    issued = (await harness.issue(headers, achievement, "jo@example.org")).json()
    cid = issued["credential_id"]
    entries = issued["document"]["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    index = int(entries[0]["statusListIndex"])
    # The new list is published (all clear) as soon as it has a credential.
    await eventually(
        lambda: _lists_published(harness), timeout_s=30, message="status lists published"
    )
    suspended = await harness.http.post(
        f"/v1/credentials/{cid}/suspend", json={"reason_code": "under-review"}, headers=headers
    )
    assert suspended.json()["status"] == "suspended"
    reinstated = await harness.http.post(
        f"/v1/credentials/{cid}/reinstate", json={"reason_code": "other"}, headers=headers
    )
    assert reinstated.json()["status"] == "active"
    revoked = await harness.http.post(
        f"/v1/credentials/{cid}/revoke", json={"reason_code": "misconduct"}, headers=headers
    )
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    refused = await harness.http.post(
        f"/v1/credentials/{cid}/reinstate", json={"reason_code": "other"}, headers=headers
    )
    assert refused.status_code == 409
    bad_reason = await harness.http.post(
        f"/v1/credentials/{cid}/revoke", json={"reason_code": "whim"}, headers=headers
    )
    assert bad_reason.status_code == 422
    changes = await consume(harness.settings.kafka, CredentialStatusChangedV1, 3)
    assert [c.change for c in changes] == [
        StatusChange.SUSPENDED,
        StatusChange.REINSTATED,
        StatusChange.REVOKED,
    ]

    async def revocation_bit_published() -> bool:
        # Outbox entries stay in the list document as its publication history.
        doc = await harness.db["status_lists"].find_one({})
        entries = [
            StatusListPublishedV1.model_validate_json(e["payload"])
            for e in (doc or {}).get("outbox", [])
        ]
        revocation = [e for e in entries if e.purpose.value == "revocation"]
        if not revocation:
            return False
        latest = max(revocation, key=lambda e: e.version)
        encoded = latest.credential["credentialSubject"]["encodedList"]  # type: ignore[index]
        return bool(decode_bitstring_status_list(encoded).get_bit(index))

    await eventually(revocation_bit_published, timeout_s=30, message="revocation bit published")
    # ... and every publication reaches Kafka, signed.
    versions = await _lists_published(harness)
    events = await consume(harness.settings.kafka, StatusListPublishedV1, versions * 2)
    assert max(e.version for e in events) == versions
    assert all(e.credential["proof"] for e in events)


async def test_note_is_stored_and_sent_to_the_learner_with_their_page(
    harness: IssuerHarness,
) -> None:
    """R81: the issuer's note travels with the change to the learner, with their page link."""
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    await harness.turn_on_suspension(headers)  # the note is shown for a suspension too
    achievement = await harness.published(headers, micro())
    cid = (await harness.issue(headers, achievement, "note@example.org")).json()["credential_id"]
    note = "Plagiat constaté au module 2; contactez le registrariat."
    suspended = await harness.http.post(
        f"/v1/credentials/{cid}/suspend",
        json={"reason_code": "under-review", "note": note},
        headers=headers,
    )
    assert suspended.status_code == 200
    assert suspended.json()["status_note"] == note
    fetched = await harness.http.get(f"/v1/credentials/{cid}", headers=headers)
    assert fetched.json()["status_note"] == note
    reinstated = await harness.http.post(
        f"/v1/credentials/{cid}/reinstate", json={"reason_code": "other"}, headers=headers
    )
    assert reinstated.json().get("status_note") is None  # a change without a note clears it
    requests = await consume(harness.settings.kafka, NotificationRequestedV1, 3)
    by_kind = {r.kind: r for r in requests}
    assert by_kind[NotificationKind.SUSPENDED].note == note
    assert by_kind[NotificationKind.REINSTATED].note is None
    for kind in (NotificationKind.SUSPENDED, NotificationKind.REINSTATED):
        page = by_kind[kind].learner_page_url
        assert page is not None
        assert "/learn/" in page


async def test_bulk_change_resigns_each_list_once(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    await harness.turn_on_suspension(headers)  # the bulk change below suspends
    achievement = await harness.published(headers, micro())
    ids = []
    for n in range(6):
        ids.append((await harness.issue(headers, achievement, f"p{n}@example.org")).json())
    await eventually(
        lambda: _lists_published(harness), timeout_s=30, message="status lists published"
    )
    # Issue 18: an empty filter (or a status alone) selected every credential of the
    # institution. It is refused, and nothing changes (the suspension below finds all six).
    for empty in ({}, {"status": "active"}):
        refused = await harness.http.post(
            "/v1/credentials/status",
            json={"action": "revoke", "reason_code": "issued-in-error", "filter": empty},
            headers=headers,
        )
        assert refused.status_code == 422, refused.text
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["errors"][0]["pointer"] == "/filter"
    before = await _lists_published(harness)
    bulk = await harness.http.post(
        "/v1/credentials/status",
        json={
            "action": "suspend",
            "reason_code": "under-review",
            "filter": {"achievement_id": achievement},
        },
        headers=headers,
    )
    assert bulk.status_code == 200
    assert bulk.json()["changed"] == 6

    async def republished() -> bool:
        return await _lists_published(harness) > before

    await eventually(republished, timeout_s=30, message="status lists republished")
    await asyncio.sleep(1.5)  # several debounce windows: no second signature follows
    assert await _lists_published(harness) == before + 1
    by_ids = await harness.http.post(
        "/v1/credentials/status",
        json={
            "action": "revoke",
            "reason_code": "issued-in-error",
            "credential_ids": [ids[0]["credential_id"], "0" * 32],
        },
        headers=headers,
    )
    assert by_ids.json()["changed"] == 1
    assert by_ids.json()["refused"] == 1


async def test_a_bulk_change_carries_its_note_to_every_credential_and_learner(
    harness: IssuerHarness,
) -> None:
    """R81 for bulk changes: the note is stored on each credential and told to each learner."""
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    ids = [
        (await harness.issue(headers, achievement, f"bulk-note{n}@example.org")).json()[
            "credential_id"
        ]
        for n in range(2)
    ]
    note = "Erreur de saisie du lot 4 ; un nouveau titre suit. / Batch 4 entry error."

    async def revoke_all(note: str) -> httpx.Response:
        body = {"action": "revoke", "reason_code": "issued-in-error", "credential_ids": ids}
        return await harness.http.post(
            "/v1/credentials/status", json={**body, "note": note}, headers=headers
        )

    bulk = await revoke_all(note)
    assert bulk.status_code == 200, bulk.text
    assert bulk.json()["changed"] == 2
    for cid in ids:
        fetched = await harness.http.get(f"/v1/credentials/{cid}", headers=headers)
        assert fetched.json()["status_note"] == note
    requests = await consume(harness.settings.kafka, NotificationRequestedV1, 4)
    revoked = [r for r in requests if r.kind == NotificationKind.REVOKED]
    assert sorted(r.credential_id.removeprefix("urn:uuid:") for r in revoked) == sorted(ids)
    assert all(r.note == note for r in revoked)
    too_long = await revoke_all("x" * 1001)
    assert too_long.status_code == 422


async def test_reissue_supersedes(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    old = (await harness.issue(headers, achievement, "kim@example.org")).json()
    key = {**headers, "Idempotency-Key": "reissue-1"}
    new = await harness.http.post(
        f"/v1/credentials/{old['credential_id']}/reissue",
        json={"mode": "correction", "recipient_name": "Kim Nguyen"},
        headers=key,
    )
    assert new.status_code == 201, new.text
    again = await harness.http.post(
        f"/v1/credentials/{old['credential_id']}/reissue",
        json={"mode": "correction", "recipient_name": "Kim Nguyen"},
        headers=key,
    )
    assert again.status_code == 200
    assert again.json()["credential_id"] == new.json()["credential_id"]
    assert new.json()["supersedes"] == old["credential_id"]
    assert new.json()["document"]["credentialSubject"]["name"] == "Kim Nguyen"
    stale = (
        await harness.http.get(f"/v1/credentials/{old['credential_id']}", headers=headers)
    ).json()
    assert stale["status"] == "revoked"
    assert stale["reason_code"] == "superseded"
    assert stale["superseded_by"] == new.json()["credential_id"]
    # The public supersession answer the verifier reads (R52): no API key, ids only.
    public = await harness.http.get(f"/v1/public/credentials/{old['credential_id']}/supersession")
    assert public.status_code == 200, public.text
    assert public.json() == {
        "credential_id": old["document"]["id"],
        "issuer_did": old["document"]["issuer"]["id"],
        "superseded_by": new.json()["document"]["id"],
        "superseded_at": public.json()["superseded_at"],
        "revoked": True,
    }
    current = await harness.http.get(
        f"/v1/public/credentials/{new.json()['credential_id']}/supersession"
    )
    assert current.status_code == 404
    assert current.headers["content-type"].startswith("application/problem+json")

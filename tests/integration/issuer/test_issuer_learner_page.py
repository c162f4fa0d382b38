"""The learner's page: consent, share links (with withheld fields), receipts, privacy."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from issuer_support import IssuerHarness, consume
from learner_support import issued_with_page, publish, share_token, share_urls

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.ob3.validation import schema_problems
from sceau_dev.testing.polling import eventually
from sceau_shared.events import NotificationKind, NotificationRequestedV1, ShareOpenedV1

pytestmark = pytest.mark.integration

PRIVATE = {"referrer-policy": "no-referrer", "cache-control": "no-store", "x-robots-tag": "noindex"}


def _private(response: object) -> None:
    headers = response.headers  # type: ignore[attr-defined]
    for name, value in PRIVATE.items():
        assert headers.get(name) == value, (name, headers.get(name))


async def _share(harness: IssuerHarness, path: str, **form: str) -> str:
    before = set(share_urls((await harness.http.get(path)).text))
    response = await harness.http.post(f"{path}/shares", data={"label": "Employeur", **form})
    assert response.status_code == 303, response.text
    after = share_urls((await harness.http.get(path)).text)
    [new] = [u for u in after if u not in before]
    return new


async def test_accept_share_hiding_the_grade_then_revoke(harness: IssuerHarness) -> None:
    institution, detail, path = await issued_with_page(harness)
    headers = await harness.api_key(institution)
    page = await harness.http.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    _private(page)
    assert '<html lang="fr">' in page.text
    assert len(page.content) < 200_000

    consent = await harness.http.get(f"/v1/credentials/{detail['credential_id']}", headers=headers)
    assert consent.json()["consent"] == {"state": "pending", "at": None}
    refused = await harness.http.post(f"{path}/shares", data={"label": "x"})
    assert refused.status_code == 409

    accepted = await harness.http.post(f"{path}/accept")
    assert accepted.status_code == 303
    _private(accepted)
    state = await harness.http.get(f"/v1/credentials/{detail['credential_id']}", headers=headers)
    assert state.json()["consent"]["state"] == "accepted"

    url = await _share(harness, path, hide_result="1", expires_in_days="30")
    assert url.startswith(harness.settings.verifier_public_url + "/s/")
    shared = await harness.http.get(f"/v1/shares/{share_token(url)}")
    assert shared.status_code == 200, shared.text
    _private(shared)
    body = shared.json()
    assert body["hidden"] == ["result"]
    assert body["institution_id"] == institution
    assert body["credential_id"] == detail["id"]
    assert body["expires_at"] is not None
    document = body["document"]
    assert "result" not in document["credentialSubject"]
    assert "A+" not in json.dumps(document)
    assert document["evidence"], "evidence was not asked to be hidden"
    assert document["id"] != detail["id"]
    assert detail["id"] in document["description"]
    assert document["credentialStatus"] == detail["document"]["credentialStatus"]
    assert document["validUntil"] == detail["document"]["validUntil"]
    assert schema_problems(document) == []  # one inherited status entry: the schema, strict
    assert (await verify_proof(document, DidKeyResolver())).verified
    # The original still carries its grade.
    assert detail["document"]["credentialSubject"]["result"]

    share_id = body["share_id"]
    revoked = await harness.http.post(f"{path}/shares/{share_id}/revoke")
    assert revoked.status_code == 303
    gone = await harness.http.get(f"/v1/shares/{share_token(url)}")
    assert gone.status_code == 410
    assert gone.headers["content-type"].startswith("application/problem+json")
    assert gone.json()["type"].endswith("/share-gone")
    assert gone.json()["reason"] == "revoked"


async def test_unshared_fields_and_full_share(harness: IssuerHarness) -> None:
    _, detail, path = await issued_with_page(harness, "full@example.org", language="en")
    assert '<html lang="en">' in (await harness.http.get(path)).text
    assert '<html lang="fr">' in (await harness.http.get(f"{path}?lang=fr")).text
    await harness.http.post(f"{path}/accept")
    url = await _share(harness, path)
    body = (await harness.http.get(f"/v1/shares/{share_token(url)}")).json()
    assert body["hidden"] == []
    assert body["document"] == detail["document"]
    both = await _share(harness, path, hide_result="1", hide_evidence="1")
    hidden = (await harness.http.get(f"/v1/shares/{share_token(both)}")).json()
    assert hidden["hidden"] == ["result", "evidence"]
    assert "evidence" not in hidden["document"]
    assert (await verify_proof(hidden["document"], DidKeyResolver())).verified
    public = await harness.http.post(f"{path}/public")
    assert public.status_code == 303
    urls = share_urls((await harness.http.get(path)).text)
    assert len(urls) == 3
    opened = [(await harness.http.get(f"/v1/shares/{share_token(u)}")).json() for u in urls]
    assert [o["expires_at"] is None for o in opened].count(True) == 1


async def test_declined_or_pending_credentials_are_unreachable(harness: IssuerHarness) -> None:
    _, _, path = await issued_with_page(harness, "no@example.org")
    await harness.http.post(f"{path}/accept")
    url = await _share(harness, path)
    assert (await harness.http.get(f"/v1/shares/{share_token(url)}")).status_code == 200
    await harness.http.post(f"{path}/decline")
    hidden = await harness.http.get(f"/v1/shares/{share_token(url)}")
    assert hidden.status_code == 404
    assert hidden.headers["content-type"].startswith("application/problem+json")
    unknown = await harness.http.get("/v1/shares/" + "A" * 43)
    assert unknown.status_code == 404
    assert (await harness.http.get("/v1/shares/short")).status_code == 404


async def test_bad_links_and_forms(harness: IssuerHarness) -> None:
    _, _, path = await issued_with_page(harness, "forms@example.org")
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")
    assert (await harness.http.get(tampered)).status_code == 404
    claim = harness.svc.vault.claim_token(credential_id="x", institution_id="y", ttl_s=60)
    assert (await harness.http.get(f"/learn/{claim}")).status_code == 404
    await harness.http.post(f"{path}/accept")
    long_label = await harness.http.post(f"{path}/shares", data={"label": "x" * 81})
    assert long_label.status_code == 422
    assert "<html" in long_label.text
    too_long = await harness.http.post(
        f"{path}/shares", data={"label": "ok", "expires_in_days": "366"}
    )
    assert too_long.status_code == 422
    unknown_share = await harness.http.post(f"{path}/shares/nope/revoke")
    assert unknown_share.status_code == 404


async def test_tenant_isolation_of_pages_and_shares(harness: IssuerHarness) -> None:
    first, detail, path = await issued_with_page(harness, "iso@example.org")
    other = await harness.tenant()
    forged = harness.svc.vault.learner_token(
        credential_id=detail["credential_id"], institution_id=other, ttl_s=60
    )
    assert (await harness.http.get(f"/learn/{forged}")).status_code == 404
    await harness.http.post(f"{path}/accept")
    url = await _share(harness, path)
    body = (await harness.http.get(f"/v1/shares/{share_token(url)}")).json()
    other_headers = await harness.api_key(other)
    assert (
        await harness.http.get(f"/v1/credentials/{detail['credential_id']}", headers=other_headers)
    ).status_code == 404
    assert body["institution_id"] == first


async def test_share_openings_are_counted_once_and_receipted(harness: IssuerHarness) -> None:
    institution, detail, path = await issued_with_page(harness, "receipt@example.org")
    await harness.http.post(f"{path}/accept")
    url = await _share(harness, path, notify_on_open="1")
    share_id = (await harness.http.get(f"/v1/shares/{share_token(url)}")).json()["share_id"]
    event = ShareOpenedV1(
        producer="verifier",
        share_id=share_id,
        institution_id=institution,
        opened_at=datetime.now(UTC),
        answer="verified",
    )
    await publish(harness, event, event)  # the second is a redelivery: counted once

    async def counted() -> bool:
        return "1 fois" in (await harness.http.get(path)).text

    await eventually(counted, timeout_s=60, message="access receipt counted once")
    mails = await consume(harness.settings.kafka, NotificationRequestedV1, 2, within=60)
    receipts = [m for m in mails if m.kind is NotificationKind.SHARE_OPENED]
    issued = [m for m in mails if m.kind is NotificationKind.ISSUED]
    assert issued
    assert issued[0].learner_page_url
    assert issued[0].learner_page_url.startswith("http://issuer.test/learn/")
    assert receipts
    assert receipts[0].share_url == url
    assert receipts[0].share_label == "Employeur"
    assert receipts[0].recipient_email == "receipt@example.org"
    await asyncio.sleep(0.5)
    assert "1 fois" in (await harness.http.get(path)).text
    assert detail


async def test_tokens_stay_out_of_logs_and_spans(
    harness: IssuerHarness, caplog: pytest.LogCaptureFixture
) -> None:
    # Services log at INFO (a library's DEBUG dump of produced events carries the e-mailed
    # links by design: the notifier needs them).
    caplog.set_level(logging.INFO)
    _, _, path = await issued_with_page(harness, f"logs-{uuid.uuid4().hex[:6]}@example.org")
    token = path.rsplit("/", 1)[1]
    await harness.http.get(path)
    await harness.http.post(f"{path}/accept")
    url = await _share(harness, path)
    await harness.http.get(f"/v1/shares/{share_token(url)}")
    # The server's records (the test's own HTTP client logs the URLs it calls).
    text = "\n".join(r.getMessage() for r in caplog.records if not r.name.startswith("httpx"))
    assert token not in text
    assert share_token(url) not in text
    # What uvicorn would write for these requests is masked by the issuer's filter (uvicorn's
    # logging config may stop the access logger's propagation: listen on it directly).
    access = logging.getLogger("uvicorn.access")
    lines: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(record.getMessage())

    handler = Collect()
    access.addHandler(handler)
    previous = access.level
    access.setLevel(logging.INFO)
    try:
        shares_path = f"/v1/shares/{share_token(url)}"
        for logged_path in (path, f"{path}/accept?lang=fr", shares_path):
            access.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:1", "GET", logged_path, "1.1", 200)
    finally:
        access.removeHandler(handler)
        access.setLevel(previous)
    logged = "\n".join(lines)
    assert len(lines) == 3
    assert token not in logged
    assert share_token(url) not in logged
    assert "/learn/[token]" in logged
    assert "/learn/[token]/accept" in logged
    assert "/v1/shares/[token]" in logged


async def test_an_expired_share_is_gone(harness: IssuerHarness) -> None:
    _, _, path = await issued_with_page(harness, "expired@example.org")
    await harness.http.post(f"{path}/accept")
    url = await _share(harness, path, expires_in_days="1")
    body = (await harness.http.get(f"/v1/shares/{share_token(url)}")).json()
    await harness.db["shares"].update_one(
        {"share_id": body["share_id"]},
        {"$set": {"expires_at": datetime.now(UTC) - timedelta(minutes=1)}},
    )
    gone = await harness.http.get(f"/v1/shares/{share_token(url)}")
    assert gone.status_code == 410
    assert gone.json()["reason"] == "expired"
    page = (await harness.http.get(path)).text
    assert "expiré" in page
    assert "qr.png" not in page

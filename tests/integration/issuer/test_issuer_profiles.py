"""The other profiles: ob3-v1 (Ed25519Signature2020) and VC-JWT, for did:key and did:web."""

from __future__ import annotations

import pytest
from issuer_support import IssuerHarness, consume, micro

from sceau_dev.testing.polling import eventually
from sceau_shared.events import DidMethod, StatusListPublishedV1

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("method", [DidMethod.KEY, DidMethod.WEB])
async def test_ob3_v1_and_jwt_profiles(harness: IssuerHarness, method: DidMethod) -> None:
    institution = await harness.tenant(method=method, domain="v1.example")
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro(profile="ob3-v1"))
    v1 = await harness.issue(headers, achievement, "v1@example.org")
    assert v1.status_code == 201, v1.text
    document = v1.json()["document"]
    assert document["proof"]["type"] == "Ed25519Signature2020"
    assert "issuanceDate" in document
    status = document["credentialStatus"]
    assert status["type"] == "StatusList2021Entry"
    assert status["statusPurpose"] == "revocation"
    if method == DidMethod.WEB:
        assert document["proof"]["verificationMethod"] == "did:web:v1.example#key-1-2020"
    jwt = await harness.issue(headers, achievement, "jwt@example.org", profile="jwt")
    assert jwt.status_code == 201, jwt.text
    token = jwt.json()["document"]
    assert isinstance(token, str)
    assert token.count(".") == 2
    cid = v1.json()["credential_id"]
    refused = await harness.http.post(
        f"/v1/credentials/{cid}/suspend", json={"reason_code": "under-review"}, headers=headers
    )
    assert refused.status_code == 409

    async def lists_published() -> list[StatusListPublishedV1]:
        doc = await harness.db["status_lists"].find_one({"version": {"$gte": 1}})
        return [doc] if doc else []

    await eventually(lists_published, timeout_s=30, message="status list published")
    [event] = await consume(harness.settings.kafka, StatusListPublishedV1, 1)
    assert event.format == "StatusList2021"
    assert event.purpose.value == "revocation"
    assert event.list_url == status["statusListCredential"]
    assert event.credential["proof"]

"""The other profiles: ob3-v1 (Ed25519Signature2020) and VC-JWT, for did:key and did:web."""

from __future__ import annotations

import pytest
from issuer_support import IssuerHarness, consume, micro

from sceau_credentials.proofs.jwt import decode_jwt
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
    # The jwt profile is the OB 3.0.3 credential as a VC-JOSE-COSE JWT, on a Bitstring list.
    decoded = decode_jwt(token)
    assert decoded.header["typ"] == "vc+jwt"
    assert decoded.header["alg"] == ("EdDSA" if method == DidMethod.KEY else "ES256")
    assert "vc" not in decoded.payload
    assert decoded.payload["@context"][0] == "https://www.w3.org/ns/credentials/v2"
    assert "validFrom" in decoded.payload
    assert decoded.payload["credentialStatus"]["type"] == "BitstringStatusListEntry"
    jwt_id = jwt.json()["credential_id"]
    suspended = await harness.http.post(
        f"/v1/credentials/{jwt_id}/suspend", json={"reason_code": "under-review"}, headers=headers
    )
    assert suspended.status_code == 409  # suspension is off by default, for jwt as for ob3-v2
    assert "suspension was off" in suspended.json()["detail"]
    cid = v1.json()["credential_id"]
    refused = await harness.http.post(
        f"/v1/credentials/{cid}/suspend", json={"reason_code": "under-review"}, headers=headers
    )
    assert refused.status_code == 409

    async def lists_published() -> list[StatusListPublishedV1]:
        doc = await harness.db["status_lists"].find_one({"version": {"$gte": 1}})
        return [doc] if doc else []

    await eventually(lists_published, timeout_s=30, message="status list published")
    # The v1 credential's StatusList2021 list, and the jwt one's Bitstring lists (revocation and
    # suspension: one slot serves both).
    events = await consume(harness.settings.kafka, StatusListPublishedV1, 3)
    assert sorted(e.format for e in events).count("BitstringStatusList") == 2
    [event] = [e for e in events if e.format == "StatusList2021"]
    assert event.purpose.value == "revocation"
    assert event.list_url == status["statusListCredential"]
    assert event.credential["proof"]

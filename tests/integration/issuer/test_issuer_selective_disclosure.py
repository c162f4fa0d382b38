"""Selective disclosure: an ecdsa-sd-2023 base proof at issuance, a derived disclosure per share.

A registry-hosted did:web institution turns ``selective_disclosure`` on; the graded credential it
issues is stored with an ``ecdsa-sd-2023`` base copy (its P-256 key); the learner's share that
hides the grade serves the *original* credential (same id) minus the grade, under a derived proof
that verifies against the institution's DID document, with nothing signed again.
"""

from __future__ import annotations

import json

import pytest
from issuer_support import IssuerHarness
from learner_support import issued_with_page, share_token, share_urls

from sceau_credentials.dids import CompositeResolver, StaticResolver
from sceau_credentials.dids.documents import KeyState, PublishedKey, institution_did_document
from sceau_credentials.engine import verify_proof
from sceau_credentials.ob3 import schema_problems
from sceau_shared.events import DidMethod

pytestmark = pytest.mark.integration


async def _document_of(harness: IssuerHarness, institution: str) -> dict[str, object]:
    tenant = await harness.svc.tenants.get(institution)
    keys = [
        PublishedKey(
            k.verification_method.partition("#")[2], k.public_key_multibase, KeyState(k.state)
        )
        for k in tenant.keys
    ]
    return institution_did_document(tenant.did, keys)


async def test_share_hiding_the_grade_is_a_disclosure_of_the_original(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant(method=DidMethod.HOSTED_WEB)
    headers = await harness.api_key(institution)
    chosen = await harness.http.put(
        "/v1/institution/settings",
        json={"suspension": False, "selective_disclosure": True},
        headers=headers,
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["selective_disclosure"] is True
    assert chosen.json()["jwt_algorithm"] == "ES256"  # absent: unchanged

    _, detail, path = await issued_with_page(harness, institution=institution)
    assert "sd_document" not in detail
    listed = await harness.http.get(f"/v1/credentials/{detail['credential_id']}", headers=headers)
    assert "sd_document" not in listed.json()
    stored = await harness.db["credentials"].find_one({"_id": detail["credential_id"]})
    assert stored is not None
    base = stored["sd_document"]
    assert base["proof"][0]["cryptosuite"] == "ecdsa-sd-2023"
    assert base["proof"][0]["verificationMethod"].endswith("#p256-1")
    assert {k: v for k, v in base.items() if k != "proof"} == {
        k: v for k, v in detail["document"].items() if k != "proof"
    }

    assert (await harness.http.post(f"{path}/accept")).status_code == 303
    made = await harness.http.post(
        f"{path}/shares", data={"label": "Employeur", "hide_result": "1"}
    )
    assert made.status_code == 303, made.text
    [url] = share_urls((await harness.http.get(path)).text)
    body = (await harness.http.get(f"/v1/shares/{share_token(url)}")).json()
    assert body["hidden"] == ["result"]
    document = body["document"]
    assert document["id"] == detail["document"]["id"]  # the original, not a copy
    assert "result" not in document["credentialSubject"]
    assert "A+" not in json.dumps(document)
    assert document["evidence"] == detail["document"]["evidence"]
    assert document["credentialStatus"] == detail["document"]["credentialStatus"]
    assert (
        document["credentialSubject"]["achievement"]
        == (detail["document"]["credentialSubject"]["achievement"])
    )
    assert document["proof"][0]["cryptosuite"] == "ecdsa-sd-2023"
    assert schema_problems(document) == []
    resolver = CompositeResolver(
        {"web": StaticResolver([await _document_of(harness, institution)])}
    )
    verified = await verify_proof(document, resolver)
    assert verified.verified, verified.reason
    assert verified.verification_method == base["proof"][0]["verificationMethod"]
    # Putting the grade back breaks the derived proof.
    forged = json.loads(json.dumps(document))
    forged["credentialSubject"]["result"] = detail["document"]["credentialSubject"]["result"]
    assert not (await verify_proof(forged, resolver)).verified
    # The plain credential is still eddsa-rdfc-2022 and verifies as before.
    assert (await verify_proof(detail["document"], resolver)).verified


async def test_without_the_choice_shares_keep_the_signed_copy(harness: IssuerHarness) -> None:
    institution = await harness.tenant(method=DidMethod.HOSTED_WEB)
    _, detail, path = await issued_with_page(harness, "plain@example.org", institution=institution)
    stored = await harness.db["credentials"].find_one({"_id": detail["credential_id"]})
    assert stored is not None
    assert "sd_document" not in stored
    await harness.http.post(f"{path}/accept")
    await harness.http.post(f"{path}/shares", data={"label": "x", "hide_result": "1"})
    [url] = share_urls((await harness.http.get(path)).text)
    document = (await harness.http.get(f"/v1/shares/{share_token(url)}")).json()["document"]
    assert document["id"] != detail["document"]["id"]
    assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"

"""The DID document an own-domain institution hosts: it verifies the credentials it signed.

Verification is offline: the engine's resolver is given only the document the endpoint returned
(``StaticResolver``), exactly what a verifier would fetch from
``https://<domain>/.well-known/did.json``.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from issuer_support import IssuerHarness, micro

from sceau_credentials.dids import CompositeResolver, StaticResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.proofs.jwt import decode_jwt
from sceau_issuer.apikeys.service import Scope
from sceau_shared.events import DidMethod

pytestmark = pytest.mark.integration


def verify_method(token: str) -> str:
    """The ``kid`` an ES256 JWT names (its header is checked to be ES256)."""
    header = decode_jwt(token).header
    assert header["alg"] == "ES256"
    return str(header["kid"])


async def test_own_domain_document_verifies_old_and_new_credentials(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant(method=DidMethod.WEB, domain="college-b.example")
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro())
    old = (await harness.issue(headers, achievement, "old@example.org")).json()["document"]
    old_v1 = (
        await harness.issue(headers, achievement, "old1@example.org", profile="ob3-v1")
    ).json()["document"]
    old_jwt = (
        await harness.issue(headers, achievement, "oldjwt@example.org", profile="jwt")
    ).json()["document"]
    rotated = await harness.http.post("/v1/institution/keys/rotate", headers=headers)
    assert rotated.status_code == 200, rotated.text
    new = (await harness.issue(headers, achievement, "new@example.org")).json()["document"]
    assert new["proof"][0]["verificationMethod"] == "did:web:college-b.example#key-2"
    new_jwt = (
        await harness.issue(headers, achievement, "newjwt@example.org", profile="jwt")
    ).json()["document"]

    response = await harness.http.get("/v1/institution/did.json", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["sceau-did-document-url"] == (
        "https://college-b.example/.well-known/did.json"
    )
    document = response.json()
    assert document["id"] == "did:web:college-b.example"
    ids = {m["id"] for m in document["verificationMethod"]}
    ed25519 = {f"did:web:college-b.example#key-{n}{s}" for n in (1, 2) for s in ("", "-2020")}
    p256 = {f"did:web:college-b.example#p256-{n}" for n in (1, 2)}  # ES256 JWTs: once each
    assert ed25519 | p256 == ids
    assert "did:web:college-b.example#key-1" in document["assertionMethod"]
    assert "did:web:college-b.example#p256-1" in document["assertionMethod"]
    assert "did:web:college-b.example#p256-2" in document["authentication"]
    assert "did:web:college-b.example#key-1" not in document["authentication"]
    assert "did:web:college-b.example#key-2" in document["authentication"]

    resolver = CompositeResolver({"web": StaticResolver([document])})
    for credential in (old, old_v1, new, old_jwt, new_jwt):
        verified = await verify_proof(credential, resolver)
        assert verified.verified, verified.reason
    assert verify_method(old_jwt) == "did:web:college-b.example#p256-1"
    assert verify_method(new_jwt) == "did:web:college-b.example#p256-2"

    # A revoked key leaves the document: what it signed stops verifying (the point of revoking).
    revoked = await harness.http.post(
        "/v1/institution/keys/k1/revoke",
        json={"as_of": datetime(2026, 1, 1, tzinfo=UTC).isoformat()},
        headers=headers,
    )
    assert revoked.status_code == 200, revoked.text
    after = (await harness.http.get("/v1/institution/did.json", headers=headers)).json()
    assert not any(m["id"].startswith(f"{after['id']}#key-1") for m in after["verificationMethod"])
    resolver = CompositeResolver({"web": StaticResolver([after])})
    assert not (await verify_proof(old, resolver)).verified
    assert (await verify_proof(new, resolver)).verified


async def test_did_document_needs_manage_scope_and_an_own_domain(harness: IssuerHarness) -> None:
    own = await harness.tenant(method=DidMethod.WEB, domain="college-c.example")
    reader = await harness.api_key(own, Scope.READ, Scope.ISSUE)
    refused = await harness.http.get("/v1/institution/did.json", headers=reader)
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("application/problem+json")
    anonymous = await harness.http.get("/v1/institution/did.json")
    assert anonymous.status_code == 401

    for method in (DidMethod.KEY, DidMethod.HOSTED_WEB):
        other = await harness.tenant(method=method)
        answer = await harness.http.get(
            "/v1/institution/did.json", headers=await harness.api_key(other, Scope.MANAGE)
        )
        assert answer.status_code == 409, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        problem = answer.json()
        assert problem["type"].endswith("/did-not-self-hosted")
        assert problem["did_method"] == method.value
    hosted_problem = problem["detail"]
    assert "registry hosts its DID document at https://registry.test:8002/institutions/" in (
        hosted_problem
    )

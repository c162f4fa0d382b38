"""VC-JOSE-COSE: the jwt profile's VCDM 2.0 JWT (payload = credential), beside the VCDM 1.1 one.

Credentials already issued as ``vc``-claim JWTs must keep verifying, so every test here that
checks the new shape has its VCDM 1.1 twin (``test_jwt.py``, ``test_jwt_algorithms.py``).
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from engine_samples import (
    WEB_DID,
    StaticResolver,
    did_key_signer,
    did_web_signer,
    ob3_v1_credential,
    ob3_v2_credential,
    resolver_for,
)

from sceau_credentials.conformance import Code, inspect_credential, offline_resolver
from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.ob3.envelope import Envelope, open_document
from sceau_credentials.proofs.errors import (
    PARSING_ERROR,
    PROOF_GENERATION_ERROR,
    PROOF_VERIFICATION_ERROR,
    ProofError,
)
from sceau_credentials.proofs.jwt import decode_jwt, sign_jwt

NOW = datetime(2026, 12, 6, tzinfo=UTC)


def _b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _payload(token: str) -> dict[str, Any]:
    part = token.split(".")[1]
    value = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    assert isinstance(value, dict)
    return value


def _p256_web() -> tuple[P256SigningKey, CompositeResolver]:
    key = P256SigningKey.from_private_key(P256SigningKey.generate().ec_key, WEB_DID, "p256-1")
    method = {
        "id": key.verification_method,
        "type": "JsonWebKey2020",
        "controller": WEB_DID,
        "publicKeyJwk": key.to_jwk(),
    }
    document = {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": WEB_DID,
        "verificationMethod": [method],
        "assertionMethod": [method["id"]],
    }
    resolver = CompositeResolver(
        {"key": DidKeyResolver(), "web": StaticResolver({WEB_DID: document})}
    )
    return key, resolver


async def test_es256_payload_is_the_credential_with_a_vc_jwt_header() -> None:
    key, resolver = _p256_web()
    credential = ob3_v2_credential(WEB_DID)
    token = await sign_credential(credential, key, Profile.JWT)
    assert isinstance(token, str)
    decoded = decode_jwt(token)
    assert decoded.header == {
        "alg": "ES256",
        "kid": f"{WEB_DID}#p256-1",
        "typ": "vc+jwt",
        "cty": "vc",
    }
    assert decoded.payload == credential  # no vc claim, no iss/nbf/jti beside it
    assert decoded.whole_payload
    assert decoded.credential == credential
    assert decoded.issuer == WEB_DID
    result = await verify_proof(token, resolver)
    assert result.verified, result.reason
    assert result.issuer == WEB_DID
    assert result.credential == credential


@pytest.mark.parametrize(
    "signer", [did_key_signer(3), did_web_signer()], ids=["did:key", "did:web"]
)
async def test_eddsa_vcdm2_jwt_is_ours_for_did_key_and_did_web(signer: SigningKey) -> None:
    token = await sign_credential(ob3_v2_credential(signer.controller), signer, Profile.JWT)
    assert isinstance(token, str)
    assert decode_jwt(token).header["typ"] == "vc+jwt"
    assert "vc" not in _payload(token)
    result = await verify_proof(token, resolver_for(did_web_signer()))
    assert result.verified, result.reason


async def test_both_shapes_verify_with_the_same_key() -> None:
    key, resolver = _p256_web()
    new = sign_jwt(ob3_v2_credential(WEB_DID), key)
    old = sign_jwt(ob3_v1_credential(WEB_DID), key)
    assert "vc" not in _payload(new)
    assert "vc" in _payload(old)
    assert decode_jwt(old).header == {
        "alg": "ES256",
        "kid": key.verification_method,
    }
    for token in (new, old):
        result = await verify_proof(token, resolver)
        assert result.verified, result.reason
    ed = did_key_signer(5)
    legacy_did_key = await sign_credential(ob3_v1_credential(ed.controller), ed, Profile.JWT)
    assert isinstance(legacy_did_key, str)
    assert "vc" in _payload(legacy_did_key)
    assert (await verify_proof(legacy_did_key, resolver)).verified


@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
async def test_tampered_vcdm2_jwt_fails(alg: str) -> None:
    if alg == "ES256":
        key: SigningKey | P256SigningKey
        key, resolver = _p256_web()
    else:
        key, resolver = did_web_signer(), resolver_for(did_web_signer())
    token = sign_jwt(ob3_v2_credential(WEB_DID), key)
    header, _, signature = token.split(".")
    claims = _payload(token)
    claims["credentialSubject"]["achievement"]["name"] = "Doctorat"
    result = await verify_proof(f"{header}.{_b64(claims)}.{signature}", resolver)
    assert not result.verified
    assert result.problem_type == PROOF_VERIFICATION_ERROR
    forged_header = _b64({**decode_jwt(token).header, "kid": f"{WEB_DID}#other"})
    other = await verify_proof(f"{forged_header}.{token.split('.', 1)[1]}", resolver)
    assert not other.verified


async def test_registered_claims_must_agree_with_the_credential() -> None:
    key, resolver = _p256_web()
    credential = ob3_v2_credential(WEB_DID)
    agreeing = {**credential, "iss": WEB_DID, "jti": credential["id"], "iat": 1_764_979_200}
    header = {"alg": "ES256", "kid": key.verification_method, "typ": "vc+jwt"}
    signing_input = f"{_b64(header)}.{_b64(agreeing)}"
    signature = base64.urlsafe_b64encode(key.sign(signing_input.encode())).rstrip(b"=")
    token = f"{signing_input}.{signature.decode()}"
    decoded = decode_jwt(token)
    assert decoded.credential == credential  # the claims are not credential properties
    assert (await verify_proof(token, resolver)).verified
    envelope = open_document(token)
    assert isinstance(envelope, Envelope)
    assert envelope.document == credential
    assert envelope.problems == ()

    contradicting = {**credential, "iss": "did:web:elsewhere.example"}
    bad = f"{_b64(header)}.{_b64(contradicting)}.c2ln"
    with pytest.raises(ProofError) as caught:
        decode_jwt(bad)
    assert caught.value.problem_type == PARSING_ERROR
    opened = open_document(bad)
    assert isinstance(opened, Envelope)
    assert ("issuer", "does not match the JWT 'iss' claim") in opened.problems


async def test_a_vcdm2_credential_cannot_carry_jwt_claim_names() -> None:
    key, _ = _p256_web()
    with pytest.raises(ProofError) as caught:
        sign_jwt({**ob3_v2_credential(WEB_DID), "nbf": 0}, key)
    assert caught.value.problem_type == PROOF_GENERATION_ERROR


async def test_a_payload_without_vc_or_v2_context_is_not_a_vc_jwt() -> None:
    token = f"{_b64({'alg': 'ES256'})}.{_b64({'iss': WEB_DID, 'name': 'x'})}.c2ln"
    with pytest.raises(ProofError) as caught:
        decode_jwt(token)
    assert caught.value.problem_type == PARSING_ERROR


async def test_es256_vcdm2_jwt_has_no_conformance_finding() -> None:
    key, resolver = _p256_web()
    token = sign_jwt(ob3_v2_credential(WEB_DID), key)
    assert await inspect_credential(token, resolver=resolver, now=NOW) == []
    old = sign_jwt(ob3_v1_credential(WEB_DID), key)
    old_codes = {f.code for f in await inspect_credential(old, resolver=resolver, now=NOW)}
    assert Code.CONTEXT in old_codes  # why the jwt profile changed


async def test_eddsa_vcdm2_jwt_is_reported_for_its_algorithm_only() -> None:
    key = did_key_signer(7)  # a did:key institution: no P-256 key, its JWTs are EdDSA
    token = sign_jwt(ob3_v2_credential(key.controller), key)
    found = await inspect_credential(token, resolver=offline_resolver(), now=NOW)
    assert {f.code for f in found} == {Code.JWT_ALGORITHM}
    assert "did:key" in found[0].message_en
    assert "did:key" in found[0].message_fr

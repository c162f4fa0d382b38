"""VC-JWT: didkit for did:key, ours for did:web, both verifying each other's format."""

from __future__ import annotations

import base64
import json

import pytest
from engine_samples import did_key_signer, did_web_signer, ob3_v1_credential, resolver_for

from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.proofs.errors import PARSING_ERROR, PROOF_VERIFICATION_ERROR
from sceau_credentials.proofs.jwt import decode_jwt, sign_jwt


def b64(data: dict[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


async def test_did_key_jwt_is_signed_by_didkit_and_decoded() -> None:
    key = did_key_signer()
    credential = ob3_v1_credential(key.controller)
    token = await sign_credential(credential, key, Profile.JWT)
    assert isinstance(token, str)
    decoded = decode_jwt(token)
    assert decoded.header == {"alg": "EdDSA", "kid": key.verification_method}
    assert decoded.payload["iss"] == key.controller
    assert decoded.payload["jti"] == credential["id"]
    assert decoded.credential["issuanceDate"] == credential["issuanceDate"]
    result = await verify_proof(token, resolver_for())
    assert result.verified, result.reason
    assert result.issuer == key.controller
    assert result.credential is not None
    assert result.credential["credentialSubject"]["achievement"]["name"] == "Introduction to Python"


async def test_our_jwt_has_didkits_shape_and_verifies_both_ways() -> None:
    key = did_key_signer(4)
    credential = ob3_v1_credential(key.controller)
    ours = sign_jwt(credential, key)
    theirs = await sign_credential(credential, key, Profile.JWT)
    assert isinstance(theirs, str)
    assert decode_jwt(ours).payload == decode_jwt(theirs).payload
    assert decode_jwt(ours).header == decode_jwt(theirs).header
    assert (await verify_proof(ours, resolver_for())).verified  # checked by didkit (did:key)


async def test_did_web_jwt_is_signed_and_verified_by_us() -> None:
    web = did_web_signer()
    resolver = resolver_for(web)
    token = await sign_credential(ob3_v1_credential(web.controller), web, Profile.JWT)
    assert isinstance(token, str)
    assert (await verify_proof(token, resolver)).verified


@pytest.mark.parametrize("signer", [did_key_signer(), did_web_signer()], ids=["did:key", "did:web"])
async def test_tampered_payload_fails(signer: object) -> None:
    key = signer
    token = await sign_credential(ob3_v1_credential(key.controller), key, Profile.JWT)  # type: ignore[attr-defined]
    assert isinstance(token, str)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["vc"]["credentialSubject"]["achievement"]["name"] = "Forged"
    forged = f"{header}.{b64(claims)}.{signature}"
    result = await verify_proof(forged, resolver_for(did_web_signer()))
    assert not result.verified
    assert result.problem_type == PROOF_VERIFICATION_ERROR


async def test_issuer_must_control_the_kid() -> None:
    web = did_web_signer()
    other = did_key_signer(9)
    credential = ob3_v1_credential(other.controller)
    token = sign_jwt(credential, other)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["iss"] = web.controller
    result = await verify_proof(f"{header}.{b64(claims)}.{signature}", resolver_for(web))
    assert not result.verified
    assert "issuer" in result.reason


@pytest.mark.parametrize(
    "token", ["", "a.b", "not.a.jwt", f"{b64({'alg': 'EdDSA'})}.{b64({'iss': 'x'})}.AAAA"]
)
async def test_malformed_jwt_is_a_parsing_error_not_an_exception(token: str) -> None:
    result = await verify_proof(token, resolver_for())
    assert not result.verified
    assert result.problem_type == PARSING_ERROR


async def test_other_algorithms_are_refused() -> None:
    web = did_web_signer()
    token = sign_jwt(ob3_v1_credential(web.controller), web)
    _, payload, signature = token.split(".")
    result = await verify_proof(
        f"{b64({'alg': 'none', 'kid': web.verification_method})}.{payload}.{signature}",
        resolver_for(web),
    )
    assert not result.verified
    assert "EdDSA" in result.reason

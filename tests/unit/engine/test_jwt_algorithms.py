"""VC-JWT with ES256 (P-256, signed and verified) and RS256 (verified) beside EdDSA."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from engine_samples import WEB_DID, StaticResolver, did_key_signer, ob3_v1_credential

from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.multiformats import base64url_nopad_encode
from sceau_credentials.proofs.errors import (
    PROOF_GENERATION_ERROR,
    PROOF_VERIFICATION_ERROR,
    ProofError,
)
from sceau_credentials.proofs.jwt import decode_jwt, sign_jwt
from sceau_credentials.results import CheckName, CheckStatus
from sceau_credentials.verification import verify


def _b64(data: dict[str, Any]) -> str:
    return base64url_nopad_encode(json.dumps(data).encode())


def _resolver(web_document: dict[str, Any] | None = None) -> CompositeResolver:
    documents = {WEB_DID: web_document} if web_document else {}
    return CompositeResolver({"key": DidKeyResolver(), "web": StaticResolver(documents)})


def _web_document(method: dict[str, Any]) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/jwk/v1"],
        "id": WEB_DID,
        "verificationMethod": [method],
        "assertionMethod": [method["id"]],
    }


async def test_es256_did_key_jwt_signs_and_verifies() -> None:
    key = P256SigningKey.generate()
    token = await sign_credential(ob3_v1_credential(key.controller), key, Profile.JWT)
    assert isinstance(token, str)
    decoded = decode_jwt(token)
    assert decoded.header == {"alg": "ES256", "kid": key.verification_method}
    assert len(decoded.signature) == 64  # JOSE r || s, not DER
    result = await verify_proof(token, _resolver())
    assert result.verified, result.reason
    assert result.issuer == key.controller
    assert result.verification_method == key.verification_method


async def test_es256_did_web_jwk_method_verifies() -> None:
    key = P256SigningKey.from_private_key(P256SigningKey.generate().ec_key, WEB_DID, "p256")
    method = {
        "id": key.verification_method,
        "type": "JsonWebKey2020",
        "controller": WEB_DID,
        "publicKeyJwk": key.to_jwk(),
    }
    token = sign_jwt(ob3_v1_credential(WEB_DID), key)
    assert (await verify_proof(token, _resolver(_web_document(method)))).verified


async def test_es256_tampered_payload_fails() -> None:
    key = P256SigningKey.generate()
    token = sign_jwt(ob3_v1_credential(key.controller), key)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["vc"]["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    result = await verify_proof(f"{header}.{_b64(claims)}.{signature}", _resolver())
    assert not result.verified
    assert result.problem_type == PROOF_VERIFICATION_ERROR
    assert "does not match" in result.reason


async def test_es256_signed_by_another_key_fails() -> None:
    key, other = P256SigningKey.generate(), P256SigningKey.generate()
    token = sign_jwt(ob3_v1_credential(key.controller), key)
    forged = sign_jwt(ob3_v1_credential(other.controller), other)
    spliced = ".".join(token.split(".")[:2] + forged.split(".")[2:])
    result = await verify_proof(spliced, _resolver())
    assert not result.verified
    assert result.problem_type == PROOF_VERIFICATION_ERROR


async def test_alg_must_match_the_key_kind() -> None:
    """An EdDSA did:key named by an ES256 header (or the reverse) is refused: no alg confusion."""
    ed = did_key_signer(7)
    token = sign_jwt(ob3_v1_credential(ed.controller), ed)
    _, payload, signature = token.split(".")
    relabelled = f"{_b64({'alg': 'ES256', 'kid': ed.verification_method})}.{payload}.{signature}"
    result = await verify_proof(relabelled, _resolver())
    assert not result.verified
    assert "P-256" in result.reason
    p256 = P256SigningKey.generate()
    token = sign_jwt(ob3_v1_credential(p256.controller), p256)
    _, payload, signature = token.split(".")
    relabelled = f"{_b64({'alg': 'EdDSA', 'kid': p256.verification_method})}.{payload}.{signature}"
    assert not (await verify_proof(relabelled, _resolver())).verified


@pytest.mark.parametrize("alg", ["none", "HS256", "ES384", None])
async def test_unsupported_algorithms_are_refused(alg: str | None) -> None:
    key = P256SigningKey.generate()
    _, payload, signature = sign_jwt(ob3_v1_credential(key.controller), key).split(".")
    header = _b64({"alg": alg, "kid": key.verification_method})
    result = await verify_proof(f"{header}.{payload}.{signature}", _resolver())
    assert not result.verified
    assert "not supported" in result.reason


def _rs256_token(private: rsa.RSAPrivateKey, kid: str, credential: dict[str, Any]) -> str:
    claims = {"iss": WEB_DID, "nbf": 1740787200, "jti": credential["id"], "vc": credential}
    signing_input = f"{_b64({'alg': 'RS256', 'kid': kid})}.{_b64(claims)}"
    signature = private.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64url_nopad_encode(signature)}"


def _rsa_method(public: rsa.RSAPublicKey) -> dict[str, Any]:
    numbers = public.public_numbers()
    n = numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")
    e = numbers.e.to_bytes((numbers.e.bit_length() + 7) // 8, "big")
    jwk = {"kty": "RSA", "n": base64url_nopad_encode(n), "e": base64url_nopad_encode(e)}
    return {
        "id": f"{WEB_DID}#rsa",
        "type": "JsonWebKey2020",
        "controller": WEB_DID,
        "publicKeyJwk": jwk,
    }


async def test_rs256_is_verified() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    resolver = _resolver(_web_document(_rsa_method(private.public_key())))
    token = _rs256_token(private, f"{WEB_DID}#rsa", ob3_v1_credential(WEB_DID))
    result = await verify_proof(token, resolver)
    assert result.verified, result.reason
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = _rs256_token(other, f"{WEB_DID}#rsa", ob3_v1_credential(WEB_DID))
    assert not (await verify_proof(forged, resolver)).verified


async def test_small_rsa_keys_are_refused() -> None:
    private = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505
    resolver = _resolver(_web_document(_rsa_method(private.public_key())))
    token = _rs256_token(private, f"{WEB_DID}#rsa", ob3_v1_credential(WEB_DID))
    result = await verify_proof(token, resolver)
    assert not result.verified
    assert "too small" in result.reason


async def test_p256_keys_do_not_sign_ed25519_profiles() -> None:
    key = P256SigningKey.generate()
    with pytest.raises(ProofError) as caught:
        await sign_credential(ob3_v1_credential(key.controller), key, Profile.OB3_V1)
    assert caught.value.problem_type == PROOF_GENERATION_ERROR


async def test_eddsa_did_key_jwt_still_goes_through_didkit() -> None:
    key = did_key_signer(3)
    token = await sign_credential(ob3_v1_credential(key.controller), key, Profile.JWT)
    assert isinstance(token, str)
    assert (await verify_proof(token, _resolver())).verified


async def test_full_verification_pipeline_passes_an_es256_jwt() -> None:
    key = P256SigningKey.generate()
    token = sign_jwt(ob3_v1_credential(key.controller), key)
    result = await verify(token, resolver=_resolver())
    statuses = {check.name: check.status for check in result.checks}
    assert statuses[CheckName.PROOF] is CheckStatus.PASSED
    assert statuses[CheckName.STRUCTURE] is CheckStatus.PASSED

"""did:jwk: derived documents, and ES256 VC-JWTs from did:jwk issuers verify."""

from __future__ import annotations

import json

import pytest
from engine_samples import ob3_v1_credential

from sceau_credentials.dids import CompositeResolver, DidResolutionError
from sceau_credentials.dids.did_jwk import DidJwkResolver, did_jwk_document
from sceau_credentials.engine import verify_proof
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.multiformats import base64url_nopad_encode
from sceau_credentials.proofs.jwt import sign_jwt


def did_jwk(jwk: dict[str, str]) -> str:
    return "did:jwk:" + base64url_nopad_encode(json.dumps(jwk, separators=(",", ":")).encode())


def test_document_shape() -> None:
    jwk = P256SigningKey.generate().to_jwk()
    did = did_jwk(jwk)
    document = did_jwk_document(did + "#0")
    assert document["id"] == did
    assert document["verificationMethod"] == [
        {"id": f"{did}#0", "type": "JsonWebKey2020", "controller": did, "publicKeyJwk": jwk}
    ]
    assert document["assertionMethod"] == [f"{did}#0"]
    assert document["keyAgreement"] == [f"{did}#0"]
    signing_only = did_jwk_document(did_jwk({**jwk, "use": "sig"}))
    assert "keyAgreement" not in signing_only
    encryption_only = did_jwk_document(did_jwk({**jwk, "use": "enc"}))
    assert "assertionMethod" not in encryption_only


@pytest.mark.parametrize(
    "did",
    [
        "did:jwk:not-base64!",
        "did:jwk:" + base64url_nopad_encode(b"[1]"),
        did_jwk(P256SigningKey.generate().to_jwk(private=True)),
        "did:key:z6Mk",
    ],
)
def test_invalid_identifiers(did: str) -> None:
    with pytest.raises(DidResolutionError):
        did_jwk_document(did)


async def test_es256_jwt_from_a_did_jwk_issuer_verifies() -> None:
    secret = P256SigningKey.generate()
    did = did_jwk(secret.to_jwk())
    key = P256SigningKey.from_private_key(secret.ec_key, did, "0")
    token = sign_jwt(ob3_v1_credential(did), key)
    resolver = CompositeResolver({"jwk": DidJwkResolver()})
    outcome = await verify_proof(token, resolver)
    assert outcome.verified, outcome.reason
    assert outcome.issuer == did
    other = P256SigningKey.from_private_key(P256SigningKey.generate().ec_key, did, "0")
    assert not (await verify_proof(sign_jwt(ob3_v1_credential(did), other), resolver)).verified

"""The verifier's POST /v1/verify accepts VC-JWTs signed EdDSA, ES256 and RS256.

Keys come from a did:web document served over loopback (the registry stand-in, as the registry
hosts institutions' documents: Ed25519 and P-256 Multikeys, an RSA ``JsonWebKey2020``) and from
did:jwk. A registered institution's JWT in each algorithm is verified; a changed payload, an
``alg`` that does not fit the key and ``none`` are refused.
"""

from __future__ import annotations

import base64
import json
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from verifier_support import EPOCH, Issuer, RegistryStandIn, build_app, serve, settings_for

from sceau_credentials.dids import DidWebSettings
from sceau_credentials.dids.documents import PublishedKey, institution_did_document
from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.multiformats import base64url_nopad_encode
from sceau_credentials.ob3 import IssuerProfile, Recipient, build_credential
from sceau_dev.testing.credentials import achievement


def _b64(data: dict[str, Any]) -> str:
    return base64url_nopad_encode(json.dumps(data, separators=(",", ":")).encode())


def _unsigned(issuer: str) -> dict[str, Any]:
    return build_credential(
        achievement("MicroCredential"),
        Recipient(email="learner@example.org", name="Alex Tremblay"),
        IssuerProfile(id=issuer, name={"fr": "Collège Boréal", "en": "Boreal College"}),
        "jwt",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=(datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0),
        status=[],
    )


def _rs256(credential: dict[str, Any], key: rsa.RSAPrivateKey, kid: str) -> str:
    """An RS256 VC-JWT as other issuers make them (Sceau never signs RSA)."""
    header = {"alg": "RS256", "typ": "JWT", "kid": kid}
    payload = {"iss": kid.split("#")[0], "jti": credential["id"], "vc": credential}
    signing_input = f"{_b64(header)}.{_b64(payload)}"
    signature = key.sign(signing_input.encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{signing_input}.{base64url_nopad_encode(signature)}"


def _rsa_jwk(key: rsa.RSAPrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    return {
        "kty": "RSA",
        "n": base64url_nopad_encode(numbers.n.to_bytes((numbers.n.bit_length() + 7) // 8, "big")),
        "e": base64url_nopad_encode(numbers.e.to_bytes(3, "big")),
    }


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    credential = claims.get("vc", claims)  # a vc claim (VCDM 1.1) or the whole payload (2.0)
    credential["credentialSubject"]["achievement"]["name"] = "Doctorat"
    return f"{header}.{_b64(claims)}.{signature}"


@dataclass
class Institution:
    did: str
    ed25519: SigningKey
    p256: P256SigningKey
    rsa: rsa.RSAPrivateKey


@pytest.fixture
async def world() -> AsyncIterator[tuple[httpx.AsyncClient, Institution]]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        port = httpx.URL(base).port
        did = f"did:web:127.0.0.1%3A{port}:institutions:boreal"
        institution = Institution(
            did,
            SigningKey.from_seed(os.urandom(32), did, "key-1"),
            P256SigningKey.from_private_key(os.urandom(32), did, "p256-1"),
            rsa.generate_private_key(public_exponent=65537, key_size=2048),
        )
        document = institution_did_document(
            did,
            [
                PublishedKey("key-1", institution.ed25519.public_key_multibase),
                PublishedKey("p256-1", institution.p256.public_key_multibase),
            ],
        )
        rsa_id = f"{did}#rsa-1"
        document["verificationMethod"].append(
            {
                "id": rsa_id,
                "type": "JsonWebKey2020",
                "controller": did,
                "publicKeyJwk": _rsa_jwk(institution.rsa),
            }
        )
        document["assertionMethod"].append(rsa_id)
        registry.did_documents["boreal"] = document
        standing = registry.register(Issuer(key=institution.ed25519))
        for method in (f"{did}#p256-1", rsa_id):
            standing.keys[method] = (EPOCH, None)
        built = build_app(settings_for(base, did_web=DidWebSettings(allow_private_hosts=True)))
        async with (
            LifespanManager(built.app) as manager,
            httpx.AsyncClient(
                transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
            ) as client,
        ):
            yield client, institution


async def _verify(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.post("/v1/verify", json={"credential": token}, params={"lang": "en"})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _check(answer: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in answer["checks"] if c["name"] == name)


@pytest.mark.parametrize("alg", ["EdDSA", "ES256", "RS256"])
async def test_did_web_jwt_in_each_algorithm_is_verified(
    world: tuple[httpx.AsyncClient, Institution], alg: str
) -> None:
    client, institution = world
    unsigned = _unsigned(institution.did)
    if alg == "RS256":
        token = _rs256(unsigned, institution.rsa, f"{institution.did}#rsa-1")
    else:
        key = institution.ed25519 if alg == "EdDSA" else institution.p256
        signed = await sign_credential(unsigned, key, Profile.JWT)
        assert isinstance(signed, str)
        token = signed
    answer = await _verify(client, token)
    assert answer["verified"] is True, answer["checks"]
    assert _check(answer, "issuer")["status"] == "passed"
    tampered = await _verify(client, _tamper(token))
    assert tampered["verified"] is False
    assert _check(tampered, "proof")["status"] == "failed"


async def test_alg_must_fit_the_key_and_none_is_refused(
    world: tuple[httpx.AsyncClient, Institution],
) -> None:
    client, institution = world
    signed = await sign_credential(_unsigned(institution.did), institution.p256, Profile.JWT)
    assert isinstance(signed, str)
    _, payload, signature = signed.split(".")
    for forged_header in (
        {"alg": "RS256", "kid": f"{institution.did}#p256-1"},  # an RSA alg on a P-256 key
        {"alg": "ES256", "kid": f"{institution.did}#rsa-1"},  # the RSA key claimed as P-256
        {"alg": "none", "kid": f"{institution.did}#p256-1"},
    ):
        answer = await _verify(client, f"{_b64(forged_header)}.{payload}.{signature}")
        assert answer["verified"] is False
        assert _check(answer, "proof")["status"] == "failed"
        assert _check(answer, "proof")["reason_fr"]


@pytest.mark.parametrize("alg", ["ES256", "RS256"])
async def test_did_jwk_jwt_proof_is_verified(
    world: tuple[httpx.AsyncClient, Institution], alg: str
) -> None:
    client, _ = world
    if alg == "ES256":
        p256 = P256SigningKey.generate()
        jwk: dict[str, str] = p256.to_jwk()
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        jwk = _rsa_jwk(private)
    did = "did:jwk:" + _b64(jwk)
    unsigned = _unsigned(did)
    if alg == "ES256":
        key = P256SigningKey.from_private_key(p256.scalar, did, "0")
        signed = await sign_credential(unsigned, key, Profile.JWT)
        assert isinstance(signed, str)
        token = signed
    else:
        token = _rs256(unsigned, private, f"{did}#0")
    answer = await _verify(client, token)
    # An unregistered issuer: the proof passes, the registry does not vouch for it.
    assert _check(answer, "proof")["status"] == "passed", answer["checks"]
    assert _check(await _verify(client, _tamper(token)), "proof")["status"] == "failed"

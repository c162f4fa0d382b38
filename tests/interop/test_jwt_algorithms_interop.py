"""VC-JWT interop with `jose` (panva): ES256 and EdDSA both ways, RS256 signed there.

Each case runs in both shapes: VC-JOSE-COSE (a VC Data Model 2.0 credential as the payload,
what the jwt profile signs now) and the VCDM 1.1 ``vc`` claim (what it signed before).

The JavaScript side derives keys from did:key with Digital Bazaar's Multikey drivers, so a
did:key mismatch between the two implementations fails these tests too.
"""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from interop_js import DigitalBazaar
from interop_scripts import run_script

from sceau_credentials.dids import (
    CompositeResolver,
    DidJwkResolver,
    DidKeyResolver,
    StaticResolver,
)
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey

pytestmark = pytest.mark.interop

WEB_DID = "did:web:college.example"


SHAPES = ["vcdm2", "vcdm1.1"]


def _credential(issuer: str, shape: str = "vcdm1.1") -> dict[str, Any]:
    if shape == "vcdm2":
        return {
            "@context": [
                "https://www.w3.org/ns/credentials/v2",
                "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
            ],
            "id": "urn:uuid:4b5b6a53-1a7e-4f0e-8c5d-6f1a2b3c4d5e",
            "type": ["VerifiableCredential", "OpenBadgeCredential"],
            "issuer": {"id": issuer, "type": ["Profile"], "name": "Collège Exemple"},
            "validFrom": "2025-03-01T00:00:00Z",
            "credentialSubject": {
                "type": ["AchievementSubject"],
                "achievement": {
                    "id": "https://college.example/achievements/python-101",
                    "type": ["Achievement"],
                    "name": "Introduction to Python",
                    "criteria": {"narrative": "Passed the final project."},
                },
            },
        }
    return {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        ],
        "id": "urn:uuid:4b5b6a53-1a7e-4f0e-8c5d-6f1a2b3c4d5e",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": "Profile", "name": "Collège Exemple"},
        "issuanceDate": "2025-03-01T00:00:00Z",
        "credentialSubject": {
            "type": "AchievementSubject",
            "achievement": {
                "id": "https://college.example/achievements/python-101",
                "type": "Achievement",
                "name": "Introduction to Python",
                "criteria": {"narrative": "Passed the final project."},
            },
        },
    }


def _tamper(token: str) -> str:
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    credential = claims.get("vc", claims)
    credential["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    encoded = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{header}.{encoded}.{signature}"


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("kind", ["ES256", "EdDSA"])
async def test_our_jwt_verifies_with_jose(
    digital_bazaar: DigitalBazaar, kind: str, shape: str
) -> None:
    key = P256SigningKey.generate() if kind == "ES256" else SigningKey.generate()
    token = await sign_credential(_credential(key.controller, shape), key, Profile.JWT)
    assert isinstance(token, str)
    out = run_script("jwt.mjs", {"op": "verify", "token": token})
    assert out["verified"], out.get("error")
    assert out["header"]["alg"] == kind
    if shape == "vcdm2":
        assert out["header"]["typ"] == "vc+jwt"
        assert out["payload"]["issuer"]["id"] == key.controller
    else:
        assert out["payload"]["iss"] == key.controller
    tampered = run_script("jwt.mjs", {"op": "verify", "token": _tamper(token)})
    assert not tampered["verified"]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("alg", ["ES256", "EdDSA"])
async def test_jose_did_key_jwt_verifies_here(
    digital_bazaar: DigitalBazaar, alg: str, shape: str
) -> None:
    credential = _credential("x", shape)
    out = run_script("jwt.mjs", {"op": "sign", "alg": alg, "credential": credential})
    resolver = CompositeResolver({"key": DidKeyResolver()})
    result = await verify_proof(out["token"], resolver)
    assert result.verified, result.reason
    assert result.issuer == out["issuer"]
    assert result.verification_method == out["kid"]
    assert not (await verify_proof(_tamper(out["token"]), resolver)).verified


@pytest.mark.parametrize("shape", SHAPES)
async def test_jose_rs256_jwt_verifies_here(digital_bazaar: DigitalBazaar, shape: str) -> None:
    credential = _credential("x", shape)
    out = run_script("jwt.mjs", {"op": "sign", "alg": "RS256", "credential": credential})
    method = {
        "id": out["kid"],
        "type": "JsonWebKey2020",
        "controller": WEB_DID,
        "publicKeyJwk": out["publicJwk"],
    }
    document = {
        "@context": ["https://www.w3.org/ns/did/v1"],
        "id": WEB_DID,
        "verificationMethod": [method],
        "assertionMethod": [out["kid"]],
    }
    resolver = CompositeResolver({"web": StaticResolver([document])})
    result = await verify_proof(out["token"], resolver)
    assert result.verified, result.reason
    assert not (await verify_proof(_tamper(out["token"]), resolver)).verified


@pytest.mark.parametrize("alg", ["ES256", "RS256", "EdDSA"])
async def test_jose_did_jwk_jwt_verifies_here(digital_bazaar: DigitalBazaar, alg: str) -> None:
    payload = {"op": "sign", "alg": alg, "didMethod": "jwk", "credential": _credential("x")}
    out = run_script("jwt.mjs", payload)
    assert out["issuer"].startswith("did:jwk:")
    resolver = CompositeResolver({"jwk": DidJwkResolver()})
    result = await verify_proof(out["token"], resolver)
    assert result.verified, result.reason
    assert not (await verify_proof(_tamper(out["token"]), resolver)).verified

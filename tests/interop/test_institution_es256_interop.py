"""An institution's ES256 VC-JWTs and its did:web document, checked by `jose` (panva), both ways.

The keys, DID documents and JWTs are made by the code the issuer and the registry run
(``sceau_issuer.tenants.dids``, ``sceau_credentials.dids.documents``): a did:web institution
publishes its P-256 key as a Multikey ``#p256-N`` beside its Ed25519 ``#key-N``. `jose` finds
the key from that document with Digital Bazaar's Multikey driver (an independent decoding of
the ``zDn…`` key), across a rotation (both keys verify) and a revocation (the revoked key is
gone from the document, and what it signed no longer verifies there either).
"""

from __future__ import annotations

import os
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from interop_js import DigitalBazaar
from interop_scripts import run_script

from sceau_credentials.dids import CompositeResolver, StaticResolver
from sceau_credentials.dids.documents import KeyState, PublishedKey, institution_did_document
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys_p256 import encode_p256_public_multikey, p256_public_key_from_jwk
from sceau_credentials.ob3 import IssuerProfile, Recipient, build_credential
from sceau_credentials.ob3.authoring import AchievementVersion
from sceau_credentials.proofs.jwt import decode_jwt
from sceau_credentials.status.entries import status_entry
from sceau_issuer.tenants.dids import p256_key, signing_key

pytestmark = pytest.mark.interop

DID = "did:web:college.example"
ACHIEVEMENT = AchievementVersion(
    id="https://college.example/achievements/soins-101",
    version="1",
    default_language="fr",
    name={"fr": "Soins infirmiers — bases", "en": "Nursing basics"},
    description={"fr": "Gestes de base.", "en": "Basic care."},
    criteria={"fr": "Réussir le stage.", "en": "Pass the placement."},
    hours=30,
)


def _credential() -> dict[str, Any]:
    return build_credential(
        ACHIEVEMENT,
        Recipient(email="etudiante@example.org", name="Léa Côté"),
        IssuerProfile(id=DID, name={"fr": "Collège Exemple", "en": "Example College"}),
        "jwt",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=datetime(2025, 9, 1, 12, 0, tzinfo=UTC),
        language="fr",
        status=[status_entry("jwt", "revocation", "https://registry.example/sl/1", 7)],
    )


def _document(keys: list[tuple[str, str, KeyState]]) -> dict[str, Any]:
    return institution_did_document(DID, [PublishedKey(f, m, s) for f, m, s in keys])


async def _jose_verifies(token: str, document: dict[str, Any]) -> dict[str, Any]:
    return run_script("jwt.mjs", {"op": "verify", "token": token, "didDocument": document})


async def test_institution_es256_jwt_verifies_with_jose_across_rotation_and_revocation(
    digital_bazaar: DigitalBazaar,
) -> None:
    ed25519 = signing_key(os.urandom(32), DID, 1)
    first = p256_key(os.urandom(32), DID, 1)
    old = await sign_credential(_credential(), first, Profile.JWT)
    assert isinstance(old, str)
    document = _document(
        [
            ("key-1", ed25519.public_key_multibase, KeyState.ACTIVE),
            ("p256-1", first.public_key_multibase, KeyState.ACTIVE),
        ]
    )
    out = await _jose_verifies(old, document)
    assert out["verified"], out.get("error")
    # VC-JOSE-COSE: the payload is the OB 3.0.3 credential itself (jose reads it as claims).
    assert out["header"] == {"alg": "ES256", "kid": f"{DID}#p256-1", "typ": "vc+jwt", "cty": "vc"}
    assert out["payload"]["issuer"]["id"] == DID
    assert out["payload"]["credentialStatus"]["type"] == "BitstringStatusListEntry"
    assert "vc" not in out["payload"]

    second = p256_key(os.urandom(32), DID, 2)
    new = await sign_credential(_credential(), second, Profile.JWT)
    assert isinstance(new, str)
    rotated = _document(
        [
            ("key-1", ed25519.public_key_multibase, KeyState.ACTIVE),
            ("p256-1", first.public_key_multibase, KeyState.ROTATED),
            ("p256-2", second.public_key_multibase, KeyState.ACTIVE),
        ]
    )
    for token in (old, new):
        out = await _jose_verifies(token, rotated)
        assert out["verified"], out.get("error")
        ours = await verify_proof(token, CompositeResolver({"web": StaticResolver([rotated])}))
        assert ours.verified, ours.reason

    revoked = _document(
        [
            ("key-1", ed25519.public_key_multibase, KeyState.ACTIVE),
            ("p256-1", first.public_key_multibase, KeyState.REVOKED),
            ("p256-2", second.public_key_multibase, KeyState.ACTIVE),
        ]
    )
    gone = await _jose_verifies(old, revoked)
    assert not gone["verified"]
    assert "p256-1" in gone["error"]
    assert (await _jose_verifies(new, revoked))["verified"]
    # An EdDSA JWT (the explicit choice) names #key-1 and verifies there too.
    eddsa = await sign_credential(_credential(), ed25519, Profile.JWT)
    assert isinstance(eddsa, str)
    out = await _jose_verifies(eddsa, revoked)
    assert out["verified"], out.get("error")
    assert out["header"]["alg"] == "EdDSA"


async def test_jose_es256_jwt_of_a_did_web_institution_verifies_here(
    digital_bazaar: DigitalBazaar,
) -> None:
    """jose signs; its public key is published the way Sceau publishes institution keys."""
    payload = {"op": "sign", "alg": "ES256", "webDid": DID, "credential": _credential()}
    out = run_script("jwt.mjs", payload)
    assert out["kid"] == f"{DID}#es256"
    multibase = encode_p256_public_multikey(p256_public_key_from_jwk(out["publicJwk"]))
    document = _document([("es256", multibase, KeyState.ACTIVE)])
    resolver = CompositeResolver({"web": StaticResolver([document])})
    result = await verify_proof(out["token"], resolver)
    assert result.verified, result.reason
    assert result.verification_method == f"{DID}#es256"
    assert "vc" not in decode_jwt(out["token"]).payload  # jose signed the VC-JOSE-COSE shape
    tampered = out["token"][:-4] + ("AAAA" if not out["token"].endswith("AAAA") else "BBBB")
    assert not (await verify_proof(tampered, resolver)).verified

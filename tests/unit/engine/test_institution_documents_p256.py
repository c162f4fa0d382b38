"""An institution's did:web document with P-256 keys beside its Ed25519 keys."""

from __future__ import annotations

import pytest

from sceau_credentials.dids import CompositeResolver, StaticResolver
from sceau_credentials.dids.documents import KeyState, PublishedKey, institution_did_document
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey

DID = "did:web:college.example"


def test_p256_keys_are_published_once_as_multikey_with_the_state_rules() -> None:
    ed25519 = SigningKey.generate(DID, "key-1")
    old = P256SigningKey.generate(DID, "p256-1")
    new = P256SigningKey.generate(DID, "p256-2")
    gone = P256SigningKey.generate(DID, "p256-3")
    document = institution_did_document(
        DID,
        [
            PublishedKey("key-1", ed25519.public_key_multibase),
            PublishedKey("p256-1", old.public_key_multibase, KeyState.ROTATED),
            PublishedKey("p256-2", new.public_key_multibase),
            PublishedKey("p256-3", gone.public_key_multibase, KeyState.REVOKED),
        ],
    )
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert set(methods) == {f"{DID}#key-1", f"{DID}#key-1-2020", f"{DID}#p256-1", f"{DID}#p256-2"}
    assert methods[f"{DID}#p256-2"] == {
        "id": f"{DID}#p256-2",
        "type": "Multikey",
        "controller": DID,
        "publicKeyMultibase": new.public_key_multibase,
    }
    assert f"{DID}#p256-1" in document["assertionMethod"]
    assert f"{DID}#p256-1" not in document["authentication"]
    assert f"{DID}#p256-2" in document["capabilityInvocation"]


def test_a_malformed_p256_key_is_refused() -> None:
    with pytest.raises(ValueError, match="p256-1"):
        PublishedKey("p256-1", "zDnNotAKey")


async def test_es256_jwt_verifies_against_the_document() -> None:
    key = P256SigningKey.generate(DID, "p256-1")
    document = institution_did_document(
        DID,
        [
            PublishedKey("key-1", SigningKey.generate(DID, "key-1").public_key_multibase),
            PublishedKey("p256-1", key.public_key_multibase),
        ],
    )
    credential = {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        ],
        "id": "urn:uuid:4b5b6a53-1a7e-4f0e-8c5d-6f1a2b3c4d5e",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": DID, "type": "Profile", "name": "Collège"},
        "issuanceDate": "2025-03-01T00:00:00Z",
        "credentialSubject": {"type": "AchievementSubject"},
    }
    token = await sign_credential(credential, key, Profile.JWT)
    assert isinstance(token, str)
    result = await verify_proof(token, CompositeResolver({"web": StaticResolver([document])}))
    assert result.verified, result.reason
    assert result.verification_method == f"{DID}#p256-1"

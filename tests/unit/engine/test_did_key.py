"""did:key resolution (offline), the composite resolver and verification method lookup."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from sceau_credentials.dids import (
    CompositeResolver,
    DidKeyResolver,
    DidResolutionError,
    ResolutionErrorCode,
    did_key_document,
    find_verification_method,
)
from sceau_credentials.dids.did_key import x25519_from_ed25519
from sceau_credentials.keys import SigningKey, public_key_bytes, public_key_from_method
from sceau_credentials.multiformats import decode_multicodec, multibase_decode

VECTOR_DID = "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_METHOD = f"{VECTOR_DID}#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
# The example of the did:key spec and of @digitalbazaar/did-method-key's README.
SPEC_DID = "did:key:z6MkpTHR8VNsBxYAAWHut2Geadd9jSwuBV8xRoAnwWsdvktH"
SPEC_X25519 = "z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"


async def test_multikey_document_follows_the_spec() -> None:
    document = await DidKeyResolver().resolve(VECTOR_DID)
    assert document == {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": VECTOR_DID,
        "verificationMethod": [
            {
                "id": VECTOR_METHOD,
                "type": "Multikey",
                "controller": VECTOR_DID,
                "publicKeyMultibase": "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
            }
        ],
        "authentication": [VECTOR_METHOD],
        "assertionMethod": [VECTOR_METHOD],
        "capabilityInvocation": [VECTOR_METHOD],
        "capabilityDelegation": [VECTOR_METHOD],
    }


async def test_ed25519_2020_document_with_key_agreement_matches_the_spec_example() -> None:
    resolver = DidKeyResolver("Ed25519VerificationKey2020", derive_key_agreement=True)
    document = await resolver.resolve(SPEC_DID + "#ignored-fragment")
    assert document["@context"] == [
        "https://www.w3.org/ns/did/v1",
        "https://w3id.org/security/suites/ed25519-2020/v1",
        "https://w3id.org/security/suites/x25519-2020/v1",
    ]
    (main,) = document["verificationMethod"]
    (agreement,) = document["keyAgreement"]
    assert main["type"] == "Ed25519VerificationKey2020"
    assert main["id"] == f"{SPEC_DID}#{SPEC_DID.removeprefix('did:key:')}"
    assert agreement == {
        "id": f"{SPEC_DID}#{SPEC_X25519}",
        "type": "X25519KeyAgreementKey2020",
        "controller": SPEC_DID,
        "publicKeyMultibase": SPEC_X25519,
    }
    multikey = did_key_document(SPEC_DID, derive_key_agreement=True)
    assert multikey["keyAgreement"][0]["type"] == "Multikey"
    assert len(multikey["@context"]) == 2


@settings(max_examples=25)
@given(st.binary(min_size=32, max_size=32))
def test_x25519_derivation_matches_the_secret_key_derivation(seed: bytes) -> None:
    # RFC 8032: the Ed25519 scalar is the clamped first half of SHA-512(seed); X25519 of the
    # same scalar must give the Montgomery form of the Ed25519 public key.
    key = SigningKey.from_seed(seed)
    scalar = hashlib.sha512(seed).digest()[:32]
    expected = (
        X25519PrivateKey.from_private_bytes(scalar)
        .public_key()
        .public_bytes(Encoding.Raw, PublicFormat.Raw)
    )
    assert x25519_from_ed25519(key.public_key_bytes) == expected
    method = did_key_document(key.controller, derive_key_agreement=True)["keyAgreement"][0]
    assert decode_multicodec(multibase_decode(method["publicKeyMultibase"])) == (0xEC, expected)


@pytest.mark.parametrize(
    "did",
    [
        "did:key:",
        "did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme",  # secp256k1
        "did:key:z6Mk0000",
        "did:web:example.com",
        "did:key:uAO0B",
    ],
)
async def test_invalid_did_keys(did: str) -> None:
    with pytest.raises(DidResolutionError) as caught:
        await DidKeyResolver().resolve(did)
    assert caught.value.code is ResolutionErrorCode.INVALID_DID


async def test_resolved_method_yields_the_signing_public_key() -> None:
    key = SigningKey.generate()
    document = await DidKeyResolver().resolve(key.controller)
    method = find_verification_method(document, key.verification_method, "assertionMethod")
    assert public_key_bytes(public_key_from_method(method)) == key.public_key_bytes


class _Recorder:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.calls: list[str] = []

    async def resolve(self, did: str) -> dict[str, Any]:
        self.calls.append(did)
        return self.document


async def test_composite_dispatches_by_method() -> None:
    web = _Recorder({"id": "did:web:example.edu"})
    resolver = CompositeResolver({"key": DidKeyResolver(), "web": web})
    assert resolver.methods == {"key", "web"}
    assert (await resolver.resolve(VECTOR_METHOD))["id"] == VECTOR_DID
    await resolver.resolve("did:web:example.edu#key-1")
    assert web.calls == ["did:web:example.edu"]
    with pytest.raises(DidResolutionError, match=r"did:ion is not supported \(supported: did:key"):
        await resolver.resolve("did:ion:abc")
    for bad in ("not-a-did", "did::x", "did:KEY:z6Mk", "did:web:x?service=a"):
        with pytest.raises(DidResolutionError) as caught:
            await resolver.resolve(bad)
        assert caught.value.code is ResolutionErrorCode.INVALID_DID


DOC = {
    "id": "did:web:example.edu",
    "verificationMethod": [
        {"id": "#key-1", "type": "Multikey", "publicKeyMultibase": "z6Mk1"},
        {
            "id": "did:web:example.edu#key-2",
            "type": "Multikey",
            "controller": "did:web:example.edu",
        },
        {"id": "did:web:example.edu#listed-only", "type": "Multikey"},
    ],
    "assertionMethod": [
        "#key-1",
        "did:web:example.edu#key-2",
        {"id": "#embedded", "type": "Multikey"},
    ],
    "authentication": ["did:web:example.edu#key-2"],
}


def test_find_verification_method_handles_relative_and_embedded_ids() -> None:
    first = find_verification_method(DOC, "did:web:example.edu#key-1", "assertionMethod")
    assert first["id"] == "did:web:example.edu#key-1"
    assert first["controller"] == "did:web:example.edu"
    embedded = find_verification_method(DOC, "did:web:example.edu#embedded", "assertionMethod")
    assert embedded["type"] == "Multikey"
    assert find_verification_method(DOC, "did:web:example.edu#listed-only")["type"] == "Multikey"
    first["type"] = "changed"
    assert DOC["verificationMethod"][0]["type"] == "Multikey"  # type: ignore[index]


@pytest.mark.parametrize(
    ("method_id", "purpose", "code"),
    [
        ("did:web:example.edu#listed-only", "assertionMethod", "verificationMethodNotAuthorized"),
        ("did:web:example.edu#key-1", "authentication", "verificationMethodNotAuthorized"),
        ("did:web:example.edu#missing", None, "verificationMethodNotFound"),
        ("did:web:other.edu#key-1", None, "verificationMethodNotFound"),
        ("did:web:example.edu", None, "verificationMethodNotFound"),
    ],
)
def test_find_verification_method_refusals(method_id: str, purpose: str | None, code: str) -> None:
    with pytest.raises(DidResolutionError) as caught:
        find_verification_method(DOC, method_id, purpose)
    assert caught.value.code == code

"""Sample credentials, keys and resolvers shared by the credential-engine tests (no network)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

from sceau_credentials.dids import (
    CompositeResolver,
    DidKeyResolver,
    PublishedKey,
    institution_did_document,
)
from sceau_credentials.keys import SigningKey

WEB_DID = "did:web:college.example"
CREATED = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)


class StaticResolver:
    """did:web documents from a dict: stands in for the HTTPS resolver in unit tests."""

    def __init__(self, documents: dict[str, dict[str, Any]]) -> None:
        self.documents = documents
        self.calls: list[str] = []

    async def resolve(self, did: str) -> dict[str, Any]:
        from sceau_credentials.dids import DidResolutionError, ResolutionErrorCode

        self.calls.append(did)
        if did not in self.documents:
            raise DidResolutionError(ResolutionErrorCode.NOT_FOUND, f"{did} not found")
        return copy.deepcopy(self.documents[did])


def did_key_signer(seed: int = 1) -> SigningKey:
    return SigningKey.from_seed(bytes([seed]) * 32)


def did_web_signer(seed: int = 2, *, legacy: bool = False) -> SigningKey:
    """A did:web institution key; ``legacy`` names its Ed25519VerificationKey2020 method."""
    key = SigningKey.from_seed(bytes([seed]) * 32, WEB_DID, "key-1")
    if legacy:
        return SigningKey(key.ed25519, WEB_DID, f"{WEB_DID}#key-1-2020")
    return key


def resolver_for(*web_keys: SigningKey) -> CompositeResolver:
    documents = {}
    if web_keys:
        published = [PublishedKey("key-1", web_keys[0].public_key_multibase)]
        documents[WEB_DID] = institution_did_document(WEB_DID, published)
    return CompositeResolver({"key": DidKeyResolver(), "web": StaticResolver(documents)})


def ob3_v2_credential(issuer: str) -> dict[str, Any]:
    """A VC Data Model 2.0 Open Badges 3.0.3 credential like the issuer service builds."""
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:4b5b6a53-1a7e-4f0e-8c5d-6f1a2b3c4d5e",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Introduction to Python",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Collège Exemple"},
        "validFrom": "2025-03-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "identifier": [
                {
                    "type": "IdentityObject",
                    "identityHash": "sha256$" + "0c2f83d2a32d1c5d" * 4,
                    "identityType": "emailAddress",
                    "hashed": True,
                    "salt": "pepper-and-salt",
                }
            ],
            "achievement": {
                "id": "https://college.example/achievements/python-101",
                "type": ["Achievement"],
                "name": "Introduction to Python",
                "description": "Writes and tests small Python programs.",
                "criteria": {"narrative": "Passed the final project with 70 % or more."},
                "achievementType": "Course",
                "creditsAvailable": 3,
                "inLanguage": "en",
            },
        },
        "credentialStatus": {
            "id": "https://college.example/status/1#94567",
            "type": "BitstringStatusListEntry",
            "statusPurpose": "revocation",
            "statusListIndex": "94567",
            "statusListCredential": "https://college.example/status/1",
        },
    }


def ob3_v1_credential(issuer: str) -> dict[str, Any]:
    """The same badge in VC Data Model 1.1 with the OB ``context.json`` (profile ob3-v1)."""
    credential = ob3_v2_credential(issuer)
    credential["@context"] = [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context.json",
        "https://w3id.org/vc/status-list/2021/v1",
        "https://w3id.org/security/suites/ed25519-2020/v1",
    ]
    del credential["validFrom"]
    credential["issuanceDate"] = "2025-03-01T00:00:00Z"
    credential["credentialStatus"] = {
        "id": "https://college.example/status/2021/1#94567",
        "type": "StatusList2021Entry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": "https://college.example/status/2021/1",
    }
    # OB context.json (3.0.0) has no inLanguage; keep the 1.1 credential within that context.
    del credential["credentialSubject"]["achievement"]["inLanguage"]
    return credential

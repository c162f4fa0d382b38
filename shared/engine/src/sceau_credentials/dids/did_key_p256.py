"""did:key for P-256 keys (``did:key:zDn…``), fully offline.

The W3C CCG did:key Method v0.9 derives the document the same way for every key type: one
``Multikey`` verification method ``did:key:zDn…#zDn…`` controlled by the DID itself and referenced
from ``authentication``, ``assertionMethod``, ``capabilityInvocation`` and
``capabilityDelegation``. P-256 keys have no key-agreement derivation (that exists for Ed25519
only), and the Multikey is the only representation offered, as Digital Bazaar's
``@digitalbazaar/ecdsa-multikey`` driver does.
"""

from __future__ import annotations

from typing import Any, Final

from sceau_credentials.dids.resolver import DidResolutionError, ResolutionErrorCode, split_did_url
from sceau_credentials.keys import InvalidKeyError
from sceau_credentials.keys_p256 import decode_p256_public_multikey, encode_p256_public_multikey

__all__ = ["p256_did_key_document"]

_PREFIX: Final = "did:key:"


def p256_did_key_document(did: str) -> dict[str, Any]:
    """Return the DID document of a P-256 did:key (a fragment in ``did`` is ignored).

    Raises:
        DidResolutionError: ``invalidDid`` if ``did`` is not a canonical P-256 did:key.
    """
    bare, _ = split_did_url(did)
    identifier = bare[len(_PREFIX) :] if bare.startswith(_PREFIX) else ""
    try:
        public_key = decode_p256_public_multikey(identifier)
    except InvalidKeyError as exc:
        raise DidResolutionError(
            ResolutionErrorCode.INVALID_DID, f"{did!r} is not a P-256 did:key: {exc}"
        ) from exc
    if encode_p256_public_multikey(public_key) != identifier:
        raise DidResolutionError(ResolutionErrorCode.INVALID_DID, f"{did!r} is not canonical")
    method_id = f"{bare}#{identifier}"
    return {
        "@context": ["https://www.w3.org/ns/did/v1", "https://w3id.org/security/multikey/v1"],
        "id": bare,
        "verificationMethod": [
            {
                "id": method_id,
                "type": "Multikey",
                "controller": bare,
                "publicKeyMultibase": identifier,
            }
        ],
        "authentication": [method_id],
        "assertionMethod": [method_id],
        "capabilityInvocation": [method_id],
        "capabilityDelegation": [method_id],
    }

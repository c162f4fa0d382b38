"""did:key (Ed25519; P-256 in :mod:`.did_key_p256`) resolution, fully offline.

A did:key *is* its public key, so its DID document is derived, never fetched. We follow the
W3C CCG did:key Method v0.9 "Document Creation Algorithm" for Ed25519:

* one verification method, id ``did:key:z6Mk…#z6Mk…``, controller the DID itself;
* ``publicKeyFormat`` ``Multikey`` (the spec's default) or ``Ed25519VerificationKey2020`` (what
  the Ed25519Signature2020 suite and older Digital Bazaar releases expect); both carry the same
  ``publicKeyMultibase``;
* the method is referenced from ``authentication``, ``assertionMethod``,
  ``capabilityInvocation`` and ``capabilityDelegation``;
* ``enableEncryptionKeyDerivation`` (default off in the spec): also derive the X25519
  key-agreement key (Edwards → Montgomery, RFC 7748 §4.1), embedded in ``keyAgreement``.

``tests/interop`` checks both forms are identical to what Digital Bazaar's did:key driver
(``@digitalbazaar/did-method-key``) produces.
"""

from __future__ import annotations

from typing import Any, Final, Literal

from sceau_credentials.dids.did_key_p256 import p256_did_key_document
from sceau_credentials.dids.resolver import (
    DidResolutionError,
    ResolutionErrorCode,
    split_did_url,
)
from sceau_credentials.keys import InvalidKeyError, public_key_from_did_key
from sceau_credentials.keys_p256 import is_p256_did_key
from sceau_credentials.multiformats import (
    encode_ed25519_public_multikey,
    encode_multicodec,
    multibase_encode,
)

__all__ = ["DidKeyResolver", "PublicKeyFormat", "did_key_document", "x25519_from_ed25519"]

PublicKeyFormat = Literal["Multikey", "Ed25519VerificationKey2020"]

DID_CONTEXT: Final = "https://www.w3.org/ns/did/v1"
MULTIKEY_CONTEXT: Final = "https://w3id.org/security/multikey/v1"
ED25519_2020_CONTEXT: Final = "https://w3id.org/security/suites/ed25519-2020/v1"
X25519_2020_CONTEXT: Final = "https://w3id.org/security/suites/x25519-2020/v1"
X25519_PUB: Final = 0xEC
_P: Final = 2**255 - 19


def x25519_from_ed25519(public_key: bytes) -> bytes:
    """Convert an Ed25519 public key to the X25519 public key of the same secret.

    The Montgomery u-coordinate is ``(1 + y) / (1 - y) mod p`` where ``y`` is the Edwards
    y-coordinate (the Ed25519 encoding without its sign bit).

    Raises:
        InvalidKeyError: if the key is not 32 bytes or is the degenerate point ``y = 1``.
    """
    if len(public_key) != 32:
        raise InvalidKeyError("an Ed25519 public key is 32 bytes")
    y = int.from_bytes(public_key, "little") & ((1 << 255) - 1)
    if y >= _P or (1 - y) % _P == 0:
        raise InvalidKeyError("Ed25519 public key has no X25519 counterpart")
    u = (1 + y) * pow(1 - y, -1, _P) % _P
    return u.to_bytes(32, "little")


def did_key_document(
    did: str,
    public_key_format: PublicKeyFormat = "Multikey",
    *,
    derive_key_agreement: bool = False,
) -> dict[str, Any]:
    """Return the DID document of an Ed25519 did:key (a fragment in ``did`` is ignored).

    Raises:
        DidResolutionError: ``invalidDid`` if ``did`` is not an Ed25519 did:key.
    """
    bare, _ = split_did_url(did)
    if is_p256_did_key(bare):
        return p256_did_key_document(bare)  # P-256 keys have one representation only
    try:
        public_key = public_key_from_did_key(bare)
    except InvalidKeyError as exc:
        raise DidResolutionError(ResolutionErrorCode.INVALID_DID, str(exc)) from exc
    multikey = encode_ed25519_public_multikey(public_key)
    if bare != f"did:key:{multikey}":  # e.g. a did:key:1:… version segment
        raise DidResolutionError(ResolutionErrorCode.INVALID_DID, f"{did!r} is not canonical")
    method_id = f"{bare}#{multikey}"
    contexts = [
        DID_CONTEXT,
        MULTIKEY_CONTEXT if public_key_format == "Multikey" else ED25519_2020_CONTEXT,
    ]
    document: dict[str, Any] = {
        "@context": contexts,
        "id": bare,
        "verificationMethod": [
            {
                "id": method_id,
                "type": public_key_format,
                "controller": bare,
                "publicKeyMultibase": multikey,
            }
        ],
        "authentication": [method_id],
        "assertionMethod": [method_id],
        "capabilityInvocation": [method_id],
        "capabilityDelegation": [method_id],
    }
    if derive_key_agreement:
        x25519 = multibase_encode(encode_multicodec(X25519_PUB, x25519_from_ed25519(public_key)))
        agreement_type = "Multikey"
        if public_key_format != "Multikey":
            agreement_type = "X25519KeyAgreementKey2020"
            contexts.append(X25519_2020_CONTEXT)
        # Embedded in keyAgreement (not listed in verificationMethod), as Digital Bazaar's
        # did:key driver does; the interop tests compare both documents.
        document["keyAgreement"] = [
            {
                "id": f"{bare}#{x25519}",
                "type": agreement_type,
                "controller": bare,
                "publicKeyMultibase": x25519,
            }
        ]
    return document


class DidKeyResolver:
    """Resolve Ed25519 did:key DIDs offline.

    Args:
        public_key_format: How the verification method is expressed (see module docstring).
        derive_key_agreement: Whether to add the derived X25519 ``keyAgreement`` method.
    """

    def __init__(
        self,
        public_key_format: PublicKeyFormat = "Multikey",
        *,
        derive_key_agreement: bool = False,
    ) -> None:
        self._format: PublicKeyFormat = public_key_format
        self._derive = derive_key_agreement

    async def resolve(self, did: str) -> dict[str, Any]:
        """Return the derived DID document (no I/O)."""
        return did_key_document(did, self._format, derive_key_agreement=self._derive)

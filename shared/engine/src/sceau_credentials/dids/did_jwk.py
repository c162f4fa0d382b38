"""did:jwk resolution, fully offline (W3C CCG / DIF "did:jwk" method specification).

A did:jwk is ``did:jwk:`` followed by the base64url (no padding) of a public JWK's JSON, so, like
did:key, its document is derived, never fetched: one ``JsonWebKey2020`` verification method
``<did>#0``. Wallets and issuers that sign ES256 VC-JWTs often identify themselves this way.
A key marked ``"use": "enc"`` is only offered for key agreement, one marked ``"use": "sig"``
only for signing relationships. A JWK holding a private part (``d``) is refused.
"""

from __future__ import annotations

import json
from typing import Any, Final

from sceau_credentials.dids.resolver import DidResolutionError, ResolutionErrorCode, split_did_url
from sceau_credentials.multiformats import MultiformatError, base64url_nopad_decode

__all__ = ["DidJwkResolver", "did_jwk_document"]

_PREFIX: Final = "did:jwk:"
_SIGNING: Final = (
    "assertionMethod",
    "authentication",
    "capabilityInvocation",
    "capabilityDelegation",
)


def _invalid(did: str, why: str) -> DidResolutionError:
    return DidResolutionError(ResolutionErrorCode.INVALID_DID, f"{did!r} is not a did:jwk: {why}")


def did_jwk_document(did: str) -> dict[str, Any]:
    """Return the DID document of a did:jwk (a fragment in ``did`` is ignored).

    Raises:
        DidResolutionError: ``invalidDid`` for a malformed identifier or a private JWK.
    """
    bare, _ = split_did_url(did)
    if not bare.startswith(_PREFIX):
        raise _invalid(did, "wrong method")
    try:
        jwk = json.loads(base64url_nopad_decode(bare[len(_PREFIX) :]))
    except (MultiformatError, ValueError, UnicodeDecodeError) as exc:
        raise _invalid(did, "the identifier is not base64url-encoded JSON") from exc
    if not isinstance(jwk, dict) or not isinstance(jwk.get("kty"), str):
        raise _invalid(did, "the identifier is not a JWK")
    if any(name in jwk for name in ("d", "p", "q", "dp", "dq", "qi", "k")):
        raise _invalid(did, "the JWK holds private key material")
    method_id = f"{bare}#0"
    document: dict[str, Any] = {
        "@context": [
            "https://www.w3.org/ns/did/v1",
            "https://w3id.org/security/suites/jws-2020/v1",
        ],
        "id": bare,
        "verificationMethod": [
            {"id": method_id, "type": "JsonWebKey2020", "controller": bare, "publicKeyJwk": jwk}
        ],
    }
    use = jwk.get("use")
    if use != "enc":
        for relationship in _SIGNING:
            document[relationship] = [method_id]
    if use != "sig":
        document["keyAgreement"] = [method_id]
    return document


class DidJwkResolver:
    """Resolve did:jwk DIDs offline."""

    async def resolve(self, did: str) -> dict[str, Any]:
        """Return the derived DID document (no I/O)."""
        return did_jwk_document(did)

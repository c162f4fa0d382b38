"""The wallet's proof of possession: an ``openid4vci-proof+jwt`` (OpenID4VCI 1.0 Appendix F.1).

The wallet signs a short JWT with the key it wants the credential bound to. We accept keys named
by a DID URL in ``kid`` (did:key or did:jwk, resolved offline) or given as a public ``jwk``
(turned into its did:jwk), signed with EdDSA or ES256; the audience must be the credential
issuer's identifier and the nonce a ``c_nonce`` this issuer made (checked by the caller, which
knows the institution). The DID of the key becomes the credential's ``credentialSubject.id``.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

from sceau_credentials.dids.resolver import (
    DidResolutionError,
    DidResolver,
    find_verification_method,
    split_did_url,
)
from sceau_credentials.multiformats import (
    MultiformatError,
    base64url_nopad_decode,
    base64url_nopad_encode,
)
from sceau_credentials.proofs.jws import public_key_for_algorithm, verify_jws
from sceau_issuer.wallets.oauth_errors import WalletProtocolError, invalid_proof

PROOF_TYP: Final = "openid4vci-proof+jwt"
PROOF_ALGORITHMS: Final = ("EdDSA", "ES256")
HOLDER_DID_METHODS: Final = ("key", "jwk")
#: How old (seconds) a proof's ``iat`` may be, and how far in the future clocks may drift.
MAX_AGE_S: Final = 300
MAX_SKEW_S: Final = 60
MAX_PROOF_CHARS: Final = 8192
_PUBLIC_JWK_MEMBERS: Final = ("crv", "kty", "x", "y")


@dataclass(frozen=True)
class HolderProof:
    """What a checked proof says: the holder's DID and the nonce it signed."""

    holder_did: str
    nonce: str | None


def _part(encoded: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(base64url_nopad_decode(encoded))
    except (MultiformatError, ValueError, UnicodeDecodeError) as error:
        raise invalid_proof(f"the proof's {what} is not base64url JSON") from error
    if not isinstance(value, dict):
        raise invalid_proof(f"the proof's {what} is not a JSON object")
    return value


def did_jwk_of(jwk: Mapping[str, Any]) -> str:
    """The did:jwk of a public JWK (private members refused)."""
    if "d" in jwk:
        raise invalid_proof("the proof's jwk holds a private key")
    public = {name: jwk[name] for name in _PUBLIC_JWK_MEMBERS if name in jwk}
    if public.get("kty") not in ("OKP", "EC"):
        raise invalid_proof("the proof's jwk must be an OKP (Ed25519) or EC (P-256) key")
    encoded = json.dumps(public, separators=(",", ":"), sort_keys=True).encode()
    return "did:jwk:" + base64url_nopad_encode(encoded)


def _method_id(header: Mapping[str, Any]) -> str:
    kid, jwk = header.get("kid"), header.get("jwk")
    if (kid is None) == (jwk is None) or "x5c" in header:
        raise invalid_proof("the proof must name its key by exactly one of kid (a DID URL) or jwk")
    if isinstance(jwk, Mapping):
        return did_jwk_of(jwk) + "#0"
    if not isinstance(kid, str) or not kid.startswith("did:") or "#" not in kid:
        raise invalid_proof("the proof's kid must be a DID URL with a fragment")
    did, _ = split_did_url(kid)
    if did.split(":")[1] not in HOLDER_DID_METHODS:
        raise invalid_proof("the holder's key must be a did:key or did:jwk")
    return kid


async def verify_holder_proof(
    jwt: str, *, audience: str, resolver: DidResolver, now: float | None = None
) -> HolderProof:
    """Check a proof JWT's form, signature, audience and age; return the holder's DID.

    Raises:
        WalletProtocolError: ``invalid_proof`` saying what is wrong.
    """
    if not isinstance(jwt, str) or len(jwt) > MAX_PROOF_CHARS or jwt.count(".") != 2:
        raise invalid_proof("the proof is not a compact JWT")
    head, body, signature_text = jwt.split(".")
    header, payload = _part(head, "header"), _part(body, "payload")
    if header.get("typ") != PROOF_TYP:
        raise invalid_proof(f"the proof's typ must be {PROOF_TYP}")
    algorithm = header.get("alg")
    if algorithm not in PROOF_ALGORITHMS:
        raise invalid_proof(f"the proof's alg must be one of {', '.join(PROOF_ALGORITHMS)}")
    if "crit" in header:
        raise invalid_proof("crit header parameters are not supported")
    try:
        method_id = _method_id(header)
        did, _ = split_did_url(method_id)
        document = await resolver.resolve(did)
        method = find_verification_method(document, method_id, "authentication")
        key = public_key_for_algorithm(method, algorithm)
        signature = base64url_nopad_decode(signature_text)
    except WalletProtocolError:
        raise
    except (DidResolutionError, ValueError, TypeError, KeyError, IndexError) as error:
        raise invalid_proof(f"the proof's key cannot be used: {error}") from error
    if not verify_jws(str(algorithm), key, signature, f"{head}.{body}".encode("ascii")):
        raise invalid_proof("the proof's signature does not match its key")
    audiences = payload.get("aud")
    if audiences != audience and not (isinstance(audiences, list) and audience in audiences):
        raise invalid_proof("the proof's aud must be this credential issuer's identifier")
    issued_at = payload.get("iat")
    moment = time.time() if now is None else now
    if (
        not isinstance(issued_at, int | float)
        or isinstance(issued_at, bool)
        or not math.isfinite(issued_at)
    ):
        raise invalid_proof("the proof has no iat")
    if issued_at < moment - MAX_AGE_S or issued_at > moment + MAX_SKEW_S:
        raise invalid_proof("the proof's iat is too old or in the future")
    nonce = payload.get("nonce")
    return HolderProof(holder_did=did, nonce=nonce if isinstance(nonce, str) else None)

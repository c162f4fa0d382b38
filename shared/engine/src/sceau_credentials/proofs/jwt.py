"""VC-JWT in two shapes (JWS ``EdDSA``/``ES256`` signed; ``RS256`` verified too).

* **VC-JOSE-COSE** (W3C REC, 2025), for a VC Data Model 2.0 credential — what the ``jwt`` profile
  signs now: the JWT payload *is* the credential (no ``vc`` claim, no registered claims added:
  ``issuer``, ``validFrom``, ``validUntil`` and ``id`` already say it, and an extra top-level
  ``iss`` or ``nbf`` would become a credential property). Header ``{"alg", "kid": <verification
  method>, "typ": "vc+jwt", "cty": "vc"}``. 1EdTech's validator reads this shape (its "whole
  payload" JWT mode), so an ES256 one passes its OB 3.0.3 checks.
* **VC Data Model 1.1 §6.3.1**, for a VCDM 1.1 credential — what the ``jwt`` profile signed
  before: ``iss`` is the issuer, ``nbf`` the ``issuanceDate``, ``exp`` the ``expirationDate``,
  ``jti`` the ``id``, ``sub`` the ``credentialSubject.id``; the ``vc`` claim keeps the credential
  (without ``proof``). Header ``{"alg", "kid"}``. Still signed when asked for a VCDM 1.1
  credential, and verified forever: credentials already issued in it must keep verifying.

:func:`sign_jwt` picks the shape from the credential's first ``@context``; :func:`decode_jwt`
from the payload (a ``vc`` claim, or a payload with an ``@context``). The signature check is the
same for both. did:key and did:web issuers alike go through this module (legacy did:key EdDSA
JWTs are still checked by didkit in the engine, as when they were signed).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from sceau_credentials.dids.resolver import DidResolver
from sceau_credentials.keys import InvalidKeyError, SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.multiformats import (
    MultiformatError,
    base64url_nopad_decode,
    base64url_nopad_encode,
)
from sceau_credentials.proofs.errors import (
    PARSING_ERROR,
    PROOF_GENERATION_ERROR,
    PROOF_VERIFICATION_ERROR,
    ProofError,
)
from sceau_credentials.proofs.jws import (
    SUPPORTED_ALGORITHMS,
    jws_algorithm,
    public_key_for_algorithm,
    verify_jws,
)
from sceau_credentials.proofs.methods import resolve_verification_method

__all__ = [
    "JWT_REGISTERED_CLAIMS",
    "VC_JWT_TYP",
    "DecodedJwt",
    "decode_jwt",
    "is_vcdm2_jwt_payload",
    "sign_jwt",
    "verify_jwt_signature",
]

#: ``typ`` of a VC-JOSE-COSE credential (media type ``application/vc+jwt``).
VC_JWT_TYP: Final = "vc+jwt"
_VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
#: Registered JWT claims a VC-JOSE-COSE payload may carry beside the credential's own members.
#: They are not credential properties: the decoded credential leaves them out, and ``iss``/
#: ``jti``/``sub`` must then agree with ``issuer``/``id``/``credentialSubject.id``.
JWT_REGISTERED_CLAIMS: Final = frozenset({"iss", "sub", "aud", "exp", "nbf", "iat", "jti", "cnf"})


@dataclass(frozen=True, slots=True)
class DecodedJwt:
    """A parsed (not yet verified) VC-JWT."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    credential: dict[str, Any]
    """The credential the JWT carries: the payload (VCDM 2.0), or the ``vc`` claim with the
    registered claims applied (VCDM 1.1)."""

    @property
    def whole_payload(self) -> bool:
        """Whether the payload is the credential itself (VC-JOSE-COSE), not a ``vc`` claim."""
        return "vc" not in self.payload

    @property
    def verification_method(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def issuer(self) -> str | None:
        iss = self.payload.get("iss")
        if isinstance(iss, str):
            return iss
        issuer = self.credential.get("issuer")
        issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
        return issuer_id if isinstance(issuer_id, str) else None


def is_vcdm2_jwt_payload(payload: Mapping[str, Any]) -> bool:
    """Whether a JWT payload is a VC Data Model 2.0 credential itself (VC-JOSE-COSE)."""
    context = payload.get("@context")
    return (
        "vc" not in payload
        and isinstance(context, list)
        and bool(context)
        and context[0] == _VC_V2_CONTEXT
    )


def _timestamp(value: object) -> int:
    if not isinstance(value, str):
        raise ProofError(PROOF_GENERATION_ERROR, f"date {value!r} is not a string")
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise ProofError(PROOF_GENERATION_ERROR, f"date {value!r} is not ISO 8601") from error
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _date(value: object) -> str:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ProofError(PARSING_ERROR, f"JWT time claim {value!r} is not a number")
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign_jwt(credential: Mapping[str, Any], key: SigningKey | P256SigningKey) -> str:
    """Encode ``credential`` as a VC-JWT and sign it with ``key`` (EdDSA, or ES256 for P-256).

    A VC Data Model 2.0 credential becomes a VC-JOSE-COSE JWT (the payload is the credential); a
    VCDM 1.1 one a ``vc``-claim JWT (see the module docstring).

    Raises:
        ProofError: ``PROOF_GENERATION_ERROR`` when the credential lacks what the JWT needs.
    """
    vc = {name: value for name, value in credential.items() if name != "proof"}
    issuer = vc.get("issuer")
    issuer_id = issuer.get("id") if isinstance(issuer, Mapping) else issuer
    if issuer_id != key.controller:
        raise ProofError(
            PROOF_GENERATION_ERROR,
            f"credential issuer {issuer_id!r} is not the key's controller {key.controller!r}",
        )
    if is_vcdm2_jwt_payload(vc):
        clash = sorted(JWT_REGISTERED_CLAIMS & set(vc))
        if clash:
            raise ProofError(
                PROOF_GENERATION_ERROR,
                f"a VC-JOSE-COSE credential cannot carry the JWT claim name(s) {clash}",
            )
        header: dict[str, Any] = {
            "alg": jws_algorithm(key),
            "kid": key.verification_method,
            "typ": VC_JWT_TYP,
            "cty": "vc",
        }
        return _compact(header, vc, key)
    payload: dict[str, Any] = {"iss": issuer_id}
    if "issuanceDate" in vc:
        payload["nbf"] = _timestamp(vc["issuanceDate"])
    if "expirationDate" in vc:
        payload["exp"] = _timestamp(vc["expirationDate"])
    if isinstance(vc.get("id"), str):
        payload["jti"] = vc["id"]
    subject = vc.get("credentialSubject")
    if isinstance(subject, Mapping) and isinstance(subject.get("id"), str):
        payload["sub"] = subject["id"]
    payload["vc"] = vc
    return _compact({"alg": jws_algorithm(key), "kid": key.verification_method}, payload, key)


def _compact(
    header: Mapping[str, Any], payload: Mapping[str, Any], key: SigningKey | P256SigningKey
) -> str:
    """Sign ``header``.``payload`` (compact JSON, UTF-8, base64url) and return the JWS."""
    signing_input = ".".join(
        base64url_nopad_encode(json.dumps(part, separators=(",", ":")).encode("utf-8"))
        for part in (header, payload)
    )
    signature = key.sign(signing_input.encode("ascii"))
    return f"{signing_input}.{base64url_nopad_encode(signature)}"


def _json_part(encoded: str, what: str) -> dict[str, Any]:
    try:
        value = json.loads(base64url_nopad_decode(encoded))
    except (MultiformatError, ValueError, UnicodeDecodeError) as error:
        raise ProofError(PARSING_ERROR, f"JWT {what} is not base64url-encoded JSON") from error
    if not isinstance(value, dict):
        raise ProofError(PARSING_ERROR, f"JWT {what} is not a JSON object")
    return value


def decode_jwt(token: str) -> DecodedJwt:
    """Parse a compact VC-JWT without verifying it.

    Raises:
        ProofError: ``PARSING_ERROR`` when it is not a JWS carrying a credential (a ``vc`` claim,
            or a VC Data Model 2.0 credential as the payload), or when a VC-JOSE-COSE payload's
            ``iss``/``jti``/``sub`` contradicts the credential.
    """
    parts = token.strip().split(".")
    if len(parts) != 3:
        raise ProofError(PARSING_ERROR, "a JWT has three dot-separated parts")
    header = _json_part(parts[0], "header")
    payload = _json_part(parts[1], "payload")
    try:
        signature = base64url_nopad_decode(parts[2])
    except MultiformatError as error:
        raise ProofError(PARSING_ERROR, "JWT signature is not base64url") from error
    signing_input = f"{parts[0]}.{parts[1]}".encode("ascii")
    if is_vcdm2_jwt_payload(payload):
        return DecodedJwt(
            header=header,
            payload=payload,
            signing_input=signing_input,
            signature=signature,
            credential=_whole_payload_credential(payload),
        )
    vc = payload.get("vc")
    if not isinstance(vc, dict):
        raise ProofError(
            PARSING_ERROR,
            "the JWT carries no credential: neither a 'vc' claim (VC Data Model 1.1) nor a VC "
            "Data Model 2.0 credential as its payload",
        )
    credential = dict(vc)
    if "iss" in payload:
        issuer = credential.get("issuer")
        if isinstance(issuer, dict):
            credential["issuer"] = {**issuer, "id": payload["iss"]}
        else:
            credential["issuer"] = payload["iss"]
    if "nbf" in payload:
        credential["issuanceDate"] = _date(payload["nbf"])
    if "exp" in payload:
        credential["expirationDate"] = _date(payload["exp"])
    if "jti" in payload:
        credential["id"] = payload["jti"]
    subject = credential.get("credentialSubject")
    if "sub" in payload and isinstance(subject, dict):
        credential["credentialSubject"] = {**subject, "id": payload["sub"]}
    return DecodedJwt(
        header=header,
        payload=payload,
        signing_input=signing_input,
        signature=signature,
        credential=credential,
    )


def _whole_payload_credential(payload: Mapping[str, Any]) -> dict[str, Any]:
    """The credential of a VC-JOSE-COSE payload: its members but the registered JWT claims.

    Others' JWTs may add ``iss``, ``jti`` or ``sub`` beside the credential; each must agree with
    what the credential says, since the signature covers both and a reader may trust either.
    """
    credential = {k: v for k, v in payload.items() if k not in JWT_REGISTERED_CLAIMS}
    issuer = credential.get("issuer")
    subject = credential.get("credentialSubject")
    expected = {
        "iss": issuer.get("id") if isinstance(issuer, Mapping) else issuer,
        "jti": credential.get("id"),
        "sub": subject.get("id") if isinstance(subject, Mapping) else None,
    }
    for claim, value in expected.items():
        if claim in payload and payload[claim] != value:
            raise ProofError(
                PARSING_ERROR,
                f"the JWT '{claim}' claim {payload[claim]!r} contradicts the credential "
                f"({value!r})",
            )
    return credential


async def verify_jwt_signature(decoded: DecodedJwt, resolver: DidResolver) -> dict[str, Any]:
    """Check the JWS signature with the key ``kid`` names (authorized for ``assertionMethod``).

    Returns:
        The verification method object.

    Raises:
        ProofError: ``PROOF_VERIFICATION_ERROR`` on an unsupported ``alg``, a key of another kind
            than ``alg`` names, or a signature that does not match.
    """
    algorithm = decoded.header.get("alg")
    if algorithm not in SUPPORTED_ALGORITHMS:
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            f"JWT alg {algorithm!r} is not supported "
            f"(supported: {', '.join(SUPPORTED_ALGORITHMS)})",
        )
    if "crit" in decoded.header:
        raise ProofError(PROOF_VERIFICATION_ERROR, "JWT 'crit' header parameters are not supported")
    method = await resolve_verification_method(
        resolver, decoded.verification_method, "assertionMethod"
    )
    try:
        public_key = public_key_for_algorithm(method, algorithm)
    except InvalidKeyError as error:
        raise ProofError(PROOF_VERIFICATION_ERROR, str(error)) from error
    if not verify_jws(str(algorithm), public_key, decoded.signature, decoded.signing_input):
        raise ProofError(
            PROOF_VERIFICATION_ERROR,
            "the JWT signature does not match: it was changed after signing, or signed with "
            "another key",
        )
    return method

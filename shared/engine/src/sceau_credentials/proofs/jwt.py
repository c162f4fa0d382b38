"""VC-JWT (VC Data Model 1.1 §6.3.1, JWS ``EdDSA``/``ES256``; ``RS256`` verified): the format.

didkit signs and verifies VC-JWTs for did:key issuers (:mod:`.didkit_suite`); this module does the
same for did:web issuers — whose keys only our SSRF-guarded resolver may fetch — and parses every
JWT so the engine can report issuer, verification method and the decoded credential.

Encoding follows the VC Data Model 1.1 JWT rules the way didkit applies them: ``iss`` is the
issuer, ``nbf`` the ``issuanceDate``, ``exp`` the ``expirationDate``, ``jti`` the ``id`` and
``sub`` the ``credentialSubject.id``; the ``vc`` claim keeps the whole credential (without
``proof``). The header is ``{"alg": "EdDSA", "kid": <verification method>}`` (``ES256`` for a
P-256 key; algorithms in :mod:`.jws`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

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

__all__ = ["DecodedJwt", "decode_jwt", "sign_jwt", "verify_jwt_signature"]


@dataclass(frozen=True, slots=True)
class DecodedJwt:
    """A parsed (not yet verified) VC-JWT."""

    header: dict[str, Any]
    payload: dict[str, Any]
    signing_input: bytes
    signature: bytes
    credential: dict[str, Any]
    """The VC Data Model 1.1 credential the JWT carries, with the JWT claims applied."""

    @property
    def verification_method(self) -> str | None:
        kid = self.header.get("kid")
        return kid if isinstance(kid, str) else None

    @property
    def issuer(self) -> str | None:
        iss = self.payload.get("iss")
        return iss if isinstance(iss, str) else None


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
    header = {"alg": jws_algorithm(key), "kid": key.verification_method}
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
        ProofError: ``PARSING_ERROR`` when it is not a JWS with a ``vc`` claim.
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
    vc = payload.get("vc")
    if not isinstance(vc, dict):
        raise ProofError(PARSING_ERROR, "the JWT has no 'vc' claim: it is not a VC-JWT")
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
        signing_input=f"{parts[0]}.{parts[1]}".encode("ascii"),
        signature=signature,
        credential=credential,
    )


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

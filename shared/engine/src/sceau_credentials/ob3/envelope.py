"""Reading documents as they arrive for verification: JSON-LD, VC-JWT, presentations.

A verifier receives bytes, text or parsed JSON from anyone. :func:`open_document` turns that into
an :class:`Envelope` — what to hand to the proof verifier, and the credential or presentation as
a JSON object to check — or a parse error with a clear reason. It never raises.

VC-JWT (VC Data Model 1.1 §6.3.1): the credential is the ``vc`` claim, and the registered claims
stand for credential properties — ``iss`` for ``issuer``, ``nbf`` for ``issuanceDate``, ``exp`` for
``expirationDate``, ``jti`` for ``id``, ``sub`` for ``credentialSubject.id``. Decoding restores
them; a ``vc`` property that *contradicts* its claim is reported (OB 3.0 requires them to match).
VC-JOSE-COSE (VCDM 2.0, what Sceau's ``jwt`` profile signs now): the payload *is* the credential;
registered claims beside it (``iss``, ``jti``, ``sub``...) are left out of the document and
reported when they contradict it (:func:`sceau_credentials.proofs.jwt.is_vcdm2_jwt_payload`).
The payload is read without checking the signature: the proof check does that separately, and
nothing read here is trusted until it passes.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final

from sceau_credentials.ob3.constants import (
    OB_CREDENTIAL_TYPES,
    VERIFIABLE_PRESENTATION,
)
from sceau_credentials.ob3.fields import first_mapping, id_of, types_of
from sceau_credentials.ob3.validation import data_model
from sceau_credentials.proofs.jwt import JWT_REGISTERED_CLAIMS, is_vcdm2_jwt_payload

__all__ = ["Envelope", "ParseFailure", "open_document"]

_JWT: Final = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
#: Refuse documents larger than this before parsing them (the HTTP layer limits bodies too).
MAX_DOCUMENT_CHARS: Final = 2_000_000


@dataclass(frozen=True, slots=True)
class Envelope:
    """A received document, ready for checking.

    Attributes:
        secured: what the proof verifier gets (the JSON object, or the compact JWS string).
        document: the credential or presentation as a JSON object (JWT claims restored).
        format: ``ob3-v2``, ``ob3-v1``, ``jwt``, ``vcdm-2.0`` or ``vcdm-1.1``.
        is_presentation: whether it is a VerifiablePresentation.
        jwt_claims: the JWT payload, for VC-JWT / VP-JWT input.
        problems: inconsistencies found while decoding (``(path, message)`` pairs).
    """

    secured: Mapping[str, Any] | str
    document: dict[str, Any]
    format: str
    is_presentation: bool
    jwt_claims: dict[str, Any] | None = None
    problems: tuple[tuple[str, str], ...] = field(default=())


@dataclass(frozen=True, slots=True)
class ParseFailure:
    """The input could not be read as a credential or presentation."""

    reason_en: str
    reason_fr: str


def _b64url_json(segment: str) -> Any:
    padded = segment + "=" * (-len(segment) % 4)
    return json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))


def _timestamp(value: object) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        moment = datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def _restore_claims(
    claims: Mapping[str, Any], inner: Mapping[str, Any], presentation: bool
) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Rebuild the VC/VP JSON from a JWT payload (VCDM 1.1 §6.3.1 decoding rules)."""
    document = dict(inner)
    problems: list[tuple[str, str]] = []

    def restore(claim: str, key: str, value: object) -> None:
        if value is None:
            return
        current = document.get(key)
        if current is None:
            document[key] = value
        elif current != value:
            problems.append((key, f"does not match the JWT '{claim}' claim"))

    restore("jti", "id", claims.get("jti") if isinstance(claims.get("jti"), str) else None)
    if presentation:
        restore("iss", "holder", claims.get("iss") if isinstance(claims.get("iss"), str) else None)
        return document, problems
    iss = claims.get("iss") if isinstance(claims.get("iss"), str) else None
    issuer = document.get("issuer")
    if iss is not None:
        if issuer is None:
            document["issuer"] = iss
        elif isinstance(issuer, Mapping) and "id" not in issuer:
            document["issuer"] = {**issuer, "id": iss}
        elif id_of(issuer) != iss:
            problems.append(("issuer", "does not match the JWT 'iss' claim"))
    restore("nbf", "issuanceDate", _timestamp(claims.get("nbf")))
    restore("exp", "expirationDate", _timestamp(claims.get("exp")))
    sub = claims.get("sub") if isinstance(claims.get("sub"), str) else None
    subject = document.get("credentialSubject")
    if sub is not None and isinstance(subject, Mapping):
        if subject.get("id") is None:
            document["credentialSubject"] = {**subject, "id": sub}
        elif subject.get("id") != sub:
            problems.append(("credentialSubject.id", "does not match the JWT 'sub' claim"))
    return document, problems


def _format(document: Mapping[str, Any]) -> str:
    model = data_model(document)
    ob = bool(OB_CREDENTIAL_TYPES & set(types_of(document)))
    if model == "2.0":
        return "ob3-v2" if ob else "vcdm-2.0"
    return "ob3-v1" if ob else "vcdm-1.1"


def _open_jwt(token: str) -> Envelope | ParseFailure:
    try:
        header = _b64url_json(token.split(".")[0])
        claims = _b64url_json(token.split(".")[1])
    except (ValueError, binascii.Error, UnicodeDecodeError, RecursionError):
        return ParseFailure(
            "The JWT's header or payload is not base64url-encoded JSON.",
            "L'en-tête ou le contenu du JWT n'est pas du JSON encodé en base64url.",
        )
    if not isinstance(header, Mapping) or not isinstance(claims, Mapping):
        return ParseFailure(
            "The JWT's header and payload must be JSON objects.",
            "L'en-tête et le contenu du JWT doivent être des objets JSON.",
        )
    if is_vcdm2_jwt_payload(claims):
        return _open_whole_payload(token, claims)
    inner = claims.get("vc") if "vc" in claims else claims.get("vp")
    if not isinstance(inner, Mapping):
        return ParseFailure(
            "The JWT carries no 'vc' or 'vp' claim and its payload is not a VC Data Model 2.0 "
            "credential: it is not a VC-JWT.",
            "Le JWT ne contient ni « vc » ni « vp », et son contenu n'est pas un titre VC Data "
            "Model 2.0 : ce n'est pas un titre VC-JWT.",
        )
    presentation = "vc" not in claims
    document, problems = _restore_claims(claims, inner, presentation)
    return Envelope(
        secured=token,
        document=document,
        format="jwt",
        is_presentation=presentation or VERIFIABLE_PRESENTATION in types_of(document),
        jwt_claims=dict(claims),
        problems=tuple(problems),
    )


def _open_whole_payload(token: str, claims: Mapping[str, Any]) -> Envelope:
    """A VC-JOSE-COSE JWT: the payload is the credential (or presentation) itself."""
    document = {k: v for k, v in claims.items() if k not in JWT_REGISTERED_CLAIMS}
    presentation = VERIFIABLE_PRESENTATION in types_of(document)
    problems: list[tuple[str, str]] = []
    if isinstance(claims.get("jti"), str) and claims["jti"] != document.get("id"):
        problems.append(("id", "does not match the JWT 'jti' claim"))
    iss = claims.get("iss")
    if isinstance(iss, str) and not presentation and iss != id_of(document.get("issuer")):
        problems.append(("issuer", "does not match the JWT 'iss' claim"))
    subject = document.get("credentialSubject")
    sub = claims.get("sub")
    if isinstance(sub, str) and isinstance(subject, Mapping) and subject.get("id") != sub:
        problems.append(("credentialSubject.id", "does not match the JWT 'sub' claim"))
    return Envelope(
        secured=token,
        document=document,
        format="jwt",
        is_presentation=presentation,
        jwt_claims=dict(claims),
        problems=tuple(problems),
    )


def open_document(value: object) -> Envelope | ParseFailure:
    """Read a credential or presentation given as a JSON object, JSON text, bytes or a JWT."""
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            return ParseFailure(
                "The input is not UTF-8 text.", "L'entrée n'est pas du texte UTF-8."
            )
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_DOCUMENT_CHARS:
            return ParseFailure("The input is too large.", "L'entrée est trop volumineuse.")
        if _JWT.match(text):
            return _open_jwt(text)
        try:
            value = json.loads(text)
        except (ValueError, RecursionError):
            return ParseFailure(
                "The input is neither JSON nor a compact JWT.",
                "L'entrée n'est ni du JSON ni un JWT compact.",
            )
    if not isinstance(value, Mapping):
        return ParseFailure(
            "A credential or presentation must be a JSON object or a VC-JWT.",
            "Un titre ou une présentation doit être un objet JSON ou un VC-JWT.",
        )
    document = dict(value)
    is_presentation = VERIFIABLE_PRESENTATION in types_of(document)
    return Envelope(
        secured=document,
        document=document,
        format=_format(document),
        is_presentation=is_presentation,
    )


def embedded_format(document: Mapping[str, Any]) -> str:
    """The format name of a JSON-LD credential (``ob3-v2``, ``ob3-v1``, ``vcdm-…``)."""
    return _format(document)


def proof_options(envelope: Envelope) -> tuple[list[str], list[str]]:
    """Challenges and domains the presentation's proof(s) or JWT claims commit to."""
    if envelope.jwt_claims is not None:
        nonce = envelope.jwt_claims.get("nonce")
        audience = envelope.jwt_claims.get("aud")
        return (
            [nonce] if isinstance(nonce, str) else [],
            [
                a
                for a in (audience if isinstance(audience, list) else [audience])
                if isinstance(a, str)
            ],
        )
    challenges: list[str] = []
    domains: list[str] = []
    proofs = envelope.document.get("proof")
    for proof in proofs if isinstance(proofs, list) else [proofs]:
        if isinstance(proof, Mapping):
            if isinstance(proof.get("challenge"), str):
                challenges.append(proof["challenge"])
            domain = proof.get("domain")
            domains += [
                d for d in (domain if isinstance(domain, list) else [domain]) if isinstance(d, str)
            ]
    return challenges, domains


def first_subject(document: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The (first) credential subject, if any."""
    return first_mapping(document.get("credentialSubject"))

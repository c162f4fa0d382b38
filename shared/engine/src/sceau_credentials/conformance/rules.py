"""The offline rules of 1EdTech's OB 3.0 validator, one function per rule, on the credential alone.

Each rule returns the findings it makes (none when the credential passes it). They need nothing
but the document and, for the dates, the clock; key resolution, signatures and status lists are
in :mod:`sceau_credentials.conformance.inspector`, which calls these first.

The JSON Schema is 1EdTech's, applied strictly: ``schema_problems`` without the status-array
allowance the signing gate once had. The one exception is *reported differently*, not allowed: a
``credentialStatus`` array made of exactly a revocation and a suspension Bitstring entry is the
shape an institution that turned suspension on issues, so it gets its own code
(:attr:`Code.STATUS_SUSPENSION`) instead of a generic schema finding, and callers can tell "this
institution chose suspension" from "this credential is broken".
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from importlib import resources
from typing import Any, Final

from jsonschema import Draft201909Validator, FormatChecker

from sceau_credentials.conformance.findings import Code, Finding, pointer
from sceau_credentials.ob3.constants import (
    BITSTRING_STATUS_LIST_ENTRY,
    ENDORSEMENT_CREDENTIAL,
    OB_CREDENTIAL_TYPES,
    OB_V3P0_3_CONTEXT,
    VC_V2_CONTEXT,
    VERIFIABLE_CREDENTIAL,
)
from sceau_credentials.ob3.fields import as_list, parse_datetime, types_of
from sceau_credentials.ob3.validation import schema_problems

__all__ = [
    "ACCEPTED_CRYPTOSUITES",
    "ACCEPTED_JWT_ALGORITHMS",
    "ACCEPTED_STATUS_TYPES",
    "Kind",
    "context_findings",
    "date_findings",
    "endorsement_schema_findings",
    "jwt_algorithm_findings",
    "proof_type_findings",
    "schema_findings",
    "status_findings",
    "subject_findings",
    "type_findings",
]

DATA_INTEGRITY_PROOF: Final = "DataIntegrityProof"
ACCEPTED_CRYPTOSUITES: Final = frozenset({"eddsa-rdfc-2022", "ecdsa-sd-2023"})
ACCEPTED_JWT_ALGORITHMS: Final = frozenset({"RS256", "ES256"})
REVOCATION_LIST: Final = "1EdTechRevocationList"
ACCEPTED_STATUS_TYPES: Final = frozenset({BITSTRING_STATUS_LIST_ENTRY, REVOCATION_LIST})


class Kind(StrEnum):
    """What a credential claims to be: the type and subject rules differ, nothing else."""

    ACHIEVEMENT = "achievement"
    ENDORSEMENT = "endorsement"


def _finding(code: Code, where: str, fr: str, en: str) -> Finding:
    return Finding(code=code, pointer=where, message_fr=fr, message_en=en)


def context_findings(document: Mapping[str, Any]) -> list[Finding]:
    """``@context`` starts with VC Data Model 2.0, then the OB ``context-3.0.3.json``."""
    contexts = as_list(document.get("@context"))
    expected = (VC_V2_CONTEXT, OB_V3P0_3_CONTEXT)
    if tuple(contexts[:2]) == expected:
        return []
    return [
        _finding(
            Code.CONTEXT,
            "/@context",
            f"@context doit commencer par {expected[0]} puis {expected[1]}, dans cet ordre",
            f"@context must begin with {expected[0]} then {expected[1]}, in that order",
        )
    ]


def type_findings(document: Mapping[str, Any], kind: Kind) -> list[Finding]:
    """``type`` names VerifiableCredential and the credential's own OB type."""
    types = set(types_of(document))
    findings = []
    if VERIFIABLE_CREDENTIAL not in types:
        findings.append(
            _finding(
                Code.TYPE,
                "/type",
                "type doit contenir VerifiableCredential",
                "type must include VerifiableCredential",
            )
        )
    if kind is Kind.ACHIEVEMENT and not OB_CREDENTIAL_TYPES & types:
        findings.append(
            _finding(
                Code.TYPE,
                "/type",
                "type doit contenir OpenBadgeCredential (ou AchievementCredential)",
                "type must include OpenBadgeCredential (or AchievementCredential)",
            )
        )
    if kind is Kind.ENDORSEMENT and ENDORSEMENT_CREDENTIAL not in types:
        findings.append(
            _finding(
                Code.ENDORSEMENT_TYPE,
                "/type",
                "une approbation doit être de type EndorsementCredential",
                "an endorsement must have the type EndorsementCredential",
            )
        )
    return findings


def subject_findings(document: Mapping[str, Any], kind: Kind) -> list[Finding]:
    """The subject is one object, identified, and (for an achievement) names its achievement.

    An achievement subject needs ``id`` or ``identifier`` and an ``achievement``; an endorsement
    subject an ``id`` (what is endorsed).
    """
    subject = document.get("credentialSubject")
    if not isinstance(subject, Mapping):
        return [
            _finding(
                Code.SUBJECT,
                "/credentialSubject",
                "credentialSubject doit être un objet",
                "credentialSubject must be an object",
            )
        ]
    findings = []
    identified = isinstance(subject.get("id"), str) or bool(as_list(subject.get("identifier")))
    if kind is Kind.ENDORSEMENT and not isinstance(subject.get("id"), str):
        findings.append(
            _finding(
                Code.SUBJECT,
                "/credentialSubject/id",
                "le sujet d'une approbation doit avoir un id (ce qui est approuvé)",
                "an endorsement's subject needs an id (what is endorsed)",
            )
        )
    if kind is Kind.ACHIEVEMENT and not identified:
        findings.append(
            _finding(
                Code.SUBJECT,
                "/credentialSubject",
                "credentialSubject doit avoir un id ou un identifier",
                "credentialSubject needs an id or an identifier",
            )
        )
    if kind is Kind.ACHIEVEMENT and not isinstance(subject.get("achievement"), Mapping):
        findings.append(
            _finding(
                Code.SUBJECT,
                "/credentialSubject/achievement",
                "credentialSubject doit contenir une achievement (objet)",
                "credentialSubject needs an achievement (an object)",
            )
        )
    return findings


def _suspension_opt_in(status: object) -> bool:
    """A revocation and a suspension Bitstring entry: what an institution with suspension issues."""
    if not isinstance(status, list) or len(status) != 2:
        return False
    if not all(isinstance(entry, Mapping) for entry in status):
        return False
    purposes = {entry.get("statusPurpose") for entry in status}
    kinds = {entry.get("type") for entry in status}
    return purposes == {"revocation", "suspension"} and kinds == {BITSTRING_STATUS_LIST_ENTRY}


def schema_findings(document: Mapping[str, Any]) -> list[Finding]:
    """1EdTech's official OB 3.0 AchievementCredential JSON Schema, strictly."""
    findings = []
    suspension = _suspension_opt_in(document.get("credentialStatus"))
    for problem in schema_problems(document):
        if suspension and problem.path == "credentialStatus":
            findings.append(
                _finding(
                    Code.STATUS_SUSPENSION,
                    "/credentialStatus",
                    "deux entrées de statut (révocation et suspension) : OB 3.0 n'en permet "
                    "qu'une ; c'est le prix de la suspension choisie par l'établissement",
                    "two status entries (revocation and suspension): OB 3.0 allows one; this is "
                    "what the institution's choice of suspension costs in conformance",
                )
            )
            continue
        findings.append(
            _finding(
                Code.SCHEMA,
                pointer(problem.path),
                f"non conforme au schéma JSON officiel OB 3.0 : {problem.message}",
                f"does not match the official OB 3.0 JSON Schema: {problem.message}",
            )
        )
    return findings


@functools.cache
def _endorsement_validator() -> Draft201909Validator:
    """The official schema's EndorsementCredential definition, as a schema of its own."""
    text = (
        resources.files("sceau_credentials.ob3")
        .joinpath("schema/ob_v3p0_achievementcredential_schema.json")
        .read_text(encoding="utf-8")
    )
    definitions = json.loads(text)["$defs"]
    schema = {"$ref": "#/$defs/EndorsementCredential", "$defs": definitions}
    return Draft201909Validator(schema, format_checker=FormatChecker())


def endorsement_schema_findings(document: Mapping[str, Any]) -> list[Finding]:
    """A stand-alone endorsement against the official schema's EndorsementCredential.

    An endorsement embedded in a credential is already checked by its parent's schema.
    """
    findings = []
    for error in _endorsement_validator().iter_errors(dict(document)):
        where = "".join(f"/{part}" for part in error.absolute_path)
        findings.append(
            _finding(
                Code.SCHEMA,
                where,
                f"non conforme au schéma JSON officiel OB 3.0 : {error.message[:240]}",
                f"does not match the official OB 3.0 JSON Schema: {error.message[:240]}",
            )
        )
    return findings


def proof_type_findings(document: Mapping[str, Any]) -> list[Finding]:
    """Embedded proofs: ``DataIntegrityProof`` with ``eddsa-rdfc-2022`` or ``ecdsa-sd-2023``."""
    raw = document.get("proof")
    if raw is None or raw == []:
        return [
            _finding(
                Code.PROOF_MISSING,
                "/proof",
                "aucune preuve : le titre n'est pas signé",
                "no proof: the credential is not signed",
            )
        ]
    proofs = raw if isinstance(raw, list) else [raw]
    findings = []
    for i, proof in enumerate(proofs):
        where = f"/proof/{i}" if isinstance(raw, list) else "/proof"
        kind = proof.get("type") if isinstance(proof, Mapping) else None
        suite = proof.get("cryptosuite") if isinstance(proof, Mapping) else None
        if kind == DATA_INTEGRITY_PROOF and suite in ACCEPTED_CRYPTOSUITES:
            continue
        found = f"{kind}" + (f" / {suite}" if suite else "")
        findings.append(
            _finding(
                Code.PROOF_TYPE,
                where,
                f"preuve {found} non acceptée : 1EdTech accepte DataIntegrityProof avec "
                "eddsa-rdfc-2022 ou ecdsa-sd-2023",
                f"proof {found} is not accepted: 1EdTech accepts DataIntegrityProof with "
                "eddsa-rdfc-2022 or ecdsa-sd-2023",
            )
        )
    return findings


def jwt_algorithm_findings(header: Mapping[str, Any]) -> list[Finding]:
    """A VC-JWT is certifiable only when signed with RS256 or ES256."""
    alg = header.get("alg")
    if alg in ACCEPTED_JWT_ALGORITHMS:
        return []
    extra_fr = extra_en = ""
    if alg == "EdDSA":
        extra_fr = (
            " ; un JWT EdDSA est un VC-JWT valide, mais la certification 1EdTech ne l'accepte "
            "pas : utiliser le profil ob3-v2 (eddsa-rdfc-2022) ou une clé ES256 (P-256, celle "
            "d'un établissement en did:web, réglage jwt_algorithm ES256 ; un établissement en "
            "did:key n'a pas de clé P-256 et signe ses JWT en EdDSA)"
        )
        extra_en = (
            "; an EdDSA JWT is a valid VC-JWT, but 1EdTech certification does not accept it: "
            "use the ob3-v2 profile (eddsa-rdfc-2022) or an ES256 key (P-256: a did:web "
            "institution's, setting jwt_algorithm ES256; a did:key institution has no P-256 key "
            "and signs its JWTs EdDSA)"
        )
    return [
        _finding(
            Code.JWT_ALGORITHM,
            "",
            f"algorithme JWT {alg!r} non accepté (RS256 ou ES256 seulement){extra_fr}",
            f"JWT algorithm {alg!r} is not accepted (RS256 or ES256 only){extra_en}",
        )
    ]


def _window(document: Mapping[str, Any]) -> tuple[str, str]:
    if "validFrom" in document or "validUntil" in document:
        return "validFrom", "validUntil"
    return "issuanceDate", "expirationDate"  # a VC Data Model 1.1 credential


def date_findings(document: Mapping[str, Any], now: datetime) -> list[Finding]:
    """Valid at ``now``: ``validFrom`` not in the future, ``validUntil`` not past."""
    start_key, end_key = _window(document)
    findings = []
    start = parse_datetime(document.get(start_key))
    end = parse_datetime(document.get(end_key))
    if start is not None and start > now:
        findings.append(
            _finding(
                Code.NOT_YET_VALID,
                f"/{start_key}",
                f"{start_key} ({document[start_key]}) est dans le futur",
                f"{start_key} ({document[start_key]}) is in the future",
            )
        )
    if end is not None and end < now:
        findings.append(
            _finding(
                Code.EXPIRED,
                f"/{end_key}",
                f"le titre a expiré ({end_key} {document[end_key]})",
                f"the credential has expired ({end_key} {document[end_key]})",
            )
        )
    return findings


def status_findings(document: Mapping[str, Any]) -> list[Finding]:
    """Each status entry is of a type 1EdTech accepts (Bitstring or 1EdTech revocation list)."""
    raw = document.get("credentialStatus")
    findings = []
    for i, entry in enumerate(as_list(raw)):
        where = f"/credentialStatus/{i}" if isinstance(raw, list) else "/credentialStatus"
        kind = entry.get("type") if isinstance(entry, Mapping) else None
        if kind in ACCEPTED_STATUS_TYPES:
            continue
        findings.append(
            _finding(
                Code.STATUS_TYPE,
                f"{where}/type",
                f"type de statut {kind!r} non accepté (BitstringStatusListEntry ou "
                "1EdTechRevocationList)",
                f"status type {kind!r} is not accepted (BitstringStatusListEntry or "
                "1EdTechRevocationList)",
            )
        )
    return findings

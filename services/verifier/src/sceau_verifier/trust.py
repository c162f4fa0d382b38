"""Issuer trust: registered, in good standing, accredited and with a valid key *at issuance*.

Was the signer a registered institution, accredited for this achievement type, in good standing
and using a valid key, on the issuance date?

Dates matter both ways: an institution suspended after it issued a credential does not make that
credential invalid (it was accredited when it issued it), and a key rotated after issuance still
vouches for what it signed before. A credential issued while the institution was suspended, or
signed with a key that was not (or no longer) valid then, fails. One exception to "as of the
issuance date": a key revoked as compromised vouches for nothing, whatever the date the
credential claims — its thief can write any date (issue 18, item 7). The registry says so
(``valid_at`` false at every date); the verifier also refuses a key the registry reports with
``revoked_as_of``, whatever an older registry answers for ``valid_at``.

The registry is asked through :class:`~sceau_verifier.registry.RegistryClient`; a registry that
cannot answer makes the check *inconclusive*, never passed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sceau_credentials.results import (
    ISSUER_NOT_TRUSTED,
    ISSUER_TRUST_UNKNOWN,
    Check,
    CheckName,
)
from sceau_credentials.verification import IssuerTrustInfo
from sceau_verifier.errors import RegistryUnavailable
from sceau_verifier.registry import IssuerRecord, RegistryClient

__all__ = ["RegistryTrust", "assess", "trust_key", "unknown"]

_STATUS_FR = {
    "pending": "en attente",
    "active": "actif",
    "suspended": "suspendu",
    "former": "ancien membre",
}


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


def _fail(reason_en: str, reason_fr: str, details: dict[str, Any]) -> Check:
    return Check.failed(CheckName.ISSUER, ISSUER_NOT_TRUSTED, reason_en, reason_fr, details=details)


def assess(
    record: IssuerRecord,
    *,
    at: datetime,
    achievement_type: str | None,
    verification_method: str | None,
) -> Check:
    """Turn the registry's record (as of ``at``) into the issuer check."""
    day = _day(at)
    details: dict[str, Any] = {
        "did": record.did,
        "registered": record.registered,
        "institution_id": record.institution_id,
        "status_at_issuance": record.status,
        "accredited_types": record.accredited_types,
        "as_of": at.isoformat(),
    }
    if not record.registered:
        return _fail(
            "The issuer's DID is not in the registry of recognised institutions.",
            "L'identifiant de l'émetteur ne figure pas au registre des établissements reconnus.",
            details,
        )
    if record.status != "active":
        status = record.status or "unknown"
        return _fail(
            f"On the issuance date ({day}) the institution's registry status was "
            f"\u201c{status}\u201d, not active.",
            f"À la date d'émission ({day}), le statut de l'établissement au registre était "
            f"« {_STATUS_FR.get(status, status)} », et non actif.",
            details,
        )
    if not record.accredited:
        return _fail(
            f"The institution was not accredited on the issuance date ({day}).",
            f"L'établissement n'était pas accrédité à la date d'émission ({day}).",
            details,
        )
    if achievement_type and achievement_type not in record.accredited_types:
        return _fail(
            f"The institution was not accredited to issue \u201c{achievement_type}\u201d "
            f"credentials on the issuance date ({day}).",
            f"L'établissement n'était pas accrédité pour décerner des titres de type "
            f"« {achievement_type} » à la date d'émission ({day}).",
            details,
        )
    if verification_method:
        # The registry matched the method (including the Ed25519VerificationKey2020 alias of a
        # Multikey method), so its answer is about this key even when its id is spelled otherwise.
        key = record.key
        if key is None:
            return _fail(
                "The signing key is not one the registry knows for this institution.",
                "La clé de signature n'est pas une clé connue du registre pour cet établissement.",
                details | {"verification_method": verification_method},
            )
        details["key"] = key.model_dump(mode="json")
        if key.revoked_as_of is not None:
            since = _day(key.revoked_as_of)
            return _fail(
                f"The signing key was revoked as compromised (since {since}): whoever holds it "
                "can sign with any date, so nothing it signed is trusted, whatever issuance date "
                "the credential claims. The institution re-issues the credentials it signed.",
                f"La clé de signature a été révoquée comme compromise (depuis le {since}) : qui "
                "la détient peut signer à n'importe quelle date, donc rien de ce qu'elle a signé "
                "n'est fiable, quelle que soit la date d'émission indiquée. L'établissement "
                "émet de nouveau les titres qu'elle a signés.",
                details,
            )
        if not key.valid_at:
            return _fail(
                f"The signing key was not valid on the issuance date ({day}) "
                "(not yet active, rotated or revoked).",
                f"La clé de signature n'était pas valide à la date d'émission ({day}) "
                "(pas encore active, remplacée ou révoquée).",
                details,
            )
    name = record.display_name("en") or record.did
    name_fr = record.display_name("fr") or record.did
    return Check.passed(
        CheckName.ISSUER,
        f"Issued by {name}, a registered institution accredited for this credential on the "
        f"issuance date ({day}), with a key valid on that date.",
        f"Émis par {name_fr}, établissement inscrit au registre et accrédité pour ce titre à la "
        f"date d'émission ({day}), avec une clé valide à cette date.",
        details=details,
    )


def unknown(reason: str, did: str) -> Check:
    """The registry could not be asked: the issuer's standing is unknown (inconclusive)."""
    return Check.inconclusive(
        CheckName.ISSUER,
        ISSUER_TRUST_UNKNOWN,
        f"The registry could not be consulted ({reason}); the issuer's standing is unknown.",
        f"Le registre n'a pas pu être consulté ({reason}); le statut de l'émetteur est inconnu.",
        details={"did": did},
    )


def trust_key(did: str, issued_at: datetime | None) -> tuple[str, str | None]:
    """How a lookup is matched with the credential it was made for."""
    return did, issued_at.isoformat() if issued_at is not None else None


@dataclass
class RegistryTrust:
    """The engine's ``IssuerTrust`` for one verification, answered by the registry.

    The engine only needs yes/no/unknown facts (:class:`IssuerTrustInfo`); the verifier also
    wants its own precise, dated reasons (status *at issuance*, which key, which type) and the
    registry's names for the display. So each lookup also records the record and the decided
    :class:`Check`, keyed by ``(did, issued_at)``. A new instance is made per request.

    Args:
        registry: the cached registry client.
        now: the verification time, used as the trust date when a credential has no issuance
            date (its structure check fails anyway).
    """

    registry: RegistryClient
    now: datetime
    records: list[IssuerRecord] = field(default_factory=list)
    decisions: dict[tuple[str, str | None], Check] = field(default_factory=dict)

    async def lookup(
        self,
        issuer: str,
        *,
        achievement_type: str | None,
        issued_at: datetime | None,
        verification_method: str | None,
    ) -> IssuerTrustInfo:
        """Ask the registry about ``issuer`` as of the issuance date (engine ``IssuerTrust``)."""
        at = issued_at or self.now
        key = trust_key(issuer, issued_at)
        try:
            record = await self.registry.issuer(
                issuer, at=at, verification_method=verification_method
            )
        except RegistryUnavailable as exc:
            self.decisions[key] = unknown(str(exc), issuer)
            raise
        self.records.append(record)
        decision = assess(
            record,
            at=at,
            achievement_type=achievement_type,
            verification_method=verification_method,
        )
        self.decisions[key] = decision
        key_valid = None
        if record.key is not None:
            key_valid = record.key.valid_at and record.key.revoked_as_of is None
        if verification_method and record.registered and record.key is None:
            key_valid = False
        return IssuerTrustInfo(
            registered=record.registered,
            accredited=record.registered
            and record.status == "active"
            and record.accredited
            and (not achievement_type or achievement_type in record.accredited_types),
            key_valid=key_valid,
            status=record.status,
            name_fr=record.name.get("fr") or None,
            name_en=record.name.get("en") or None,
            registry="sceau-registry",
            details={"institution_id": record.institution_id},
        )

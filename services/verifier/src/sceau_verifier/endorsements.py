"""Endorsements embedded in a credential: each one's proof and its endorser's registry standing.

An endorsement is a credential of its own (an OB 3.0 ``EndorsementCredential``), signed by the
endorsing body. The credential's own proof covers its bytes, so it cannot have been changed
after issuance — but its *issuer* could have embedded anything. So each endorsement is checked
on its own, and the answer says, per endorsement, "endorsed by X — verified" or "unverified"
with the reasons (FR/EN). An unverified endorsement never makes the credential fail: it is
information about the credential, not part of what the issuer vouches for.

An endorsement is verified when all of these hold:

* it is an ``EndorsementCredential`` about what it is embedded in (the achievement's ``id``
  for ``achievement.endorsement``, the credential's ``id`` for a top-level ``endorsement``):
  an endorsement copied from another achievement endorses something else;
* its proof verifies and the signing key's controller is its issuer (the engine's rule);
* it is within its validity dates;
* at its ``validFrom`` the registry knew its issuer's DID, held the ``endorser`` role for it
  (only active institutions hold roles) and the key was valid (as for issuers);
* *today* the body is still an active endorser: an endorsement speaks for a body's current
  recognition, so one whose registry standing was suspended, withdrawn or retired since shows
  "unverified" (unlike a credential, which stays valid when its issuer is suspended later).

The registry is asked through the same cached :class:`RegistryClient` as for issuers. The
credential's summary is only checked when its own proof passed (a forged credential's
endorsements say nothing about it); at most :data:`MAX_ENDORSEMENTS` are checked.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final

from sceau_credentials.dids import DidResolver
from sceau_credentials.ob3.endorsement import endorsement_comment, endorsements_of, is_endorsement
from sceau_credentials.ob3.fields import did_of, id_of
from sceau_credentials.results import ProofVerifier
from sceau_verifier.errors import RegistryUnavailable
from sceau_verifier.registry import IssuerRecord, RegistryClient
from sceau_verifier.schemas import EndorsementOut, EndorserOut, Lang, ReasonOut

__all__ = ["MAX_ENDORSEMENTS", "EndorsementChecker"]

#: Endorsements checked per credential (a credential carrying more is unusual; the rest are
#: reported as unverified without a network request).
MAX_ENDORSEMENTS: Final = 20

ENDORSER_ROLE: Final = "endorser"

#: Reasons an endorsement is unverified, (French, English).
REASONS: Final[Mapping[str, tuple[str, str]]] = {
    "not_endorsement": (
        "Ce n'est pas une attestation d'approbation (EndorsementCredential).",
        "This is not an endorsement credential (EndorsementCredential).",
    ),
    "other_subject": (
        "L'approbation porte sur autre chose que ce titre ({endorsed}).",
        "The endorsement is about something other than this credential ({endorsed}).",
    ),
    "proof_invalid": (
        "La signature de l'approbation n'est pas valide : elle a été modifiée ou contrefaite.",
        "The endorsement's signature is not valid: it was altered or forged.",
    ),
    "not_yet_valid": (
        "L'approbation n'est pas encore en vigueur.",
        "The endorsement is not in force yet.",
    ),
    "expired": ("L'approbation est expirée.", "The endorsement has expired."),
    "unregistered": (
        "L'organisme approbateur ne figure pas au registre.",
        "The endorsing body is not in the registry.",
    ),
    "not_endorser": (
        "À la date de l'approbation ({day}), l'organisme n'était pas inscrit au registre comme "
        "organisme approbateur actif.",
        "On the endorsement's date ({day}), the body was not registered as an active endorser.",
    ),
    "key_invalid": (
        "La clé qui a signé l'approbation n'était pas valide à sa date ({day}).",
        "The key that signed the endorsement was not valid on its date ({day}).",
    ),
    "not_endorser_now": (
        "L'organisme n'est plus reconnu comme organisme approbateur au registre "
        "(statut : {status}).",
        "The body is no longer recognised as an endorser by the registry (status: {status}).",
    ),
    "registry_unavailable": (
        "Le registre n'a pas pu être consulté; le statut de l'organisme est inconnu.",
        "The registry could not be consulted; the body's standing is unknown.",
    ),
    "too_many": (
        "Trop d'approbations dans ce titre : celle-ci n'a pas été vérifiée.",
        "Too many endorsements in this credential: this one was not checked.",
    ),
}

_STATUS_FR: Final = {"pending": "en attente", "active": "actif", "suspended": "suspendu"}
_STATUS_FR_MORE: Final = {"former": "ancien membre", "unknown": "inconnu"}


def _reason(code: str, lang: Lang, values: Mapping[str, object]) -> ReasonOut:
    fr, en = REASONS[code]
    status = values.get("status")
    french = dict(values)
    if isinstance(status, str):  # registry status words in French for the French message
        french["status"] = {**_STATUS_FR, **_STATUS_FR_MORE}.get(status, status)
    fr, en = fr.format(**french), en.format(**values)
    return ReasonOut(code=code, message=fr if lang == "fr" else en, message_fr=fr, message_en=en)


def _date(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _claimed_name(document: Mapping[str, Any]) -> str | None:
    issuer = document.get("issuer")
    name = issuer.get("name") if isinstance(issuer, Mapping) else None
    return name if isinstance(name, str) and name else None


@dataclass
class _Finding:
    """What one endorsement's checks established (turned into :class:`EndorsementOut`)."""

    holder: str
    endorsed: str | None
    document: Mapping[str, Any] | None
    reasons: list[tuple[str, dict[str, object]]] = field(default_factory=list)
    record: IssuerRecord | None = None
    proven: bool = False


class EndorsementChecker:
    """Checks the endorsements embedded in one credential (see the module docstring).

    Args:
        resolver: the verifier's DID resolver (did:key, did:jwk, did:web).
        proofs: the verifier's proof verifier (the memoised engine ``verify_proof``).
        registry: the cached registry client.
    """

    def __init__(
        self, resolver: DidResolver, proofs: ProofVerifier, registry: RegistryClient
    ) -> None:
        self._resolver = resolver
        self._proofs = proofs
        self._registry = registry

    async def check(
        self, credential: Mapping[str, Any], *, lang: Lang, now: datetime
    ) -> list[EndorsementOut]:
        """One answer per embedded endorsement, in document order."""
        found = endorsements_of(credential)
        findings = await asyncio.gather(
            *(
                self._one(holder, endorsed, item, now, checked=position < MAX_ENDORSEMENTS)
                for position, (holder, endorsed, item) in enumerate(found)
            )
        )
        return [self._out(f, lang) for f in findings]

    async def _one(
        self, holder: str, endorsed: str | None, item: object, now: datetime, *, checked: bool
    ) -> _Finding:
        document = item if isinstance(item, Mapping) else None
        finding = _Finding(holder, endorsed, document)
        if not checked:
            finding.reasons.append(("too_many", {}))
            return finding
        if document is None or not is_endorsement(document):
            finding.reasons.append(("not_endorsement", {}))
            return finding
        subject = document.get("credentialSubject")
        subject_id = id_of(subject.get("id")) if isinstance(subject, Mapping) else None
        if endorsed is None or subject_id != endorsed:
            finding.reasons.append(("other_subject", {"endorsed": subject_id or "?"}))
        outcome = await self._proofs(dict(document), self._resolver)
        if not outcome.verified:
            finding.reasons.append(("proof_invalid", {}))
            return finding  # who signed it is unknown: the registry is not asked
        finding.proven = True
        valid_from = _date(document.get("validFrom")) or outcome.proof_created or now
        valid_until = _date(document.get("validUntil"))
        if valid_from > now:
            finding.reasons.append(("not_yet_valid", {}))
        if valid_until is not None and valid_until <= now:
            finding.reasons.append(("expired", {}))
        await self._standing(finding, outcome.verification_method, valid_from)
        return finding

    async def _standing(
        self, finding: _Finding, verification_method: str | None, at: datetime
    ) -> None:
        """The endorser's registry standing at the endorsement's date and today."""
        document = finding.document or {}
        did = did_of(id_of(document.get("issuer")))
        if did is None:  # pragma: no cover - the proof check needs an issuer
            finding.reasons.append(("unregistered", {}))
            return
        day = at.date().isoformat()
        try:
            then = await self._registry.issuer(did, at=at, verification_method=verification_method)
            today = await self._registry.issuer(did, at=None, verification_method=None)
        except RegistryUnavailable:
            finding.reasons.append(("registry_unavailable", {}))
            return
        finding.record = then
        if not then.registered:
            finding.reasons.append(("unregistered", {}))
            return
        if then.status != "active" or ENDORSER_ROLE not in then.roles:
            finding.reasons.append(("not_endorser", {"day": day}))
        key = then.key
        if verification_method and (
            key is None or not key.valid_at or key.revoked_as_of is not None
        ):
            finding.reasons.append(("key_invalid", {"day": day}))
        if today.status != "active" or ENDORSER_ROLE not in today.roles:
            status = today.status or "unknown"
            finding.reasons.append(("not_endorser_now", {"status": status}))

    @staticmethod
    def _out(finding: _Finding, lang: Lang) -> EndorsementOut:
        document = finding.document or {}
        record = finding.record
        registered = record is not None and record.registered and finding.proven
        name_fr = (record.display_name("fr") if registered and record else None) or _claimed_name(
            document
        )
        name_en = (record.display_name("en") if registered and record else None) or _claimed_name(
            document
        )
        did = did_of(id_of(document.get("issuer")))
        verified = not finding.reasons
        reasons = [_reason(code, lang, values) for code, values in finding.reasons]
        who_fr = name_fr or did or "?"
        who_en = name_en or did or "?"
        if verified:
            message_fr = f"Approuvé par {who_fr} — vérifié"
            message_en = f"Endorsed by {who_en} — verified"
        else:
            message_fr = f"Approbation par {who_fr} — non vérifiée"
            message_en = f"Endorsement by {who_en} — unverified"
        comment_fr = endorsement_comment(document, "fr")
        comment_en = endorsement_comment(document, "en")
        return EndorsementOut(
            status="verified" if verified else "unverified",
            verified=verified,
            holder=finding.holder,
            endorsed=finding.endorsed,
            id=id_of(document.get("id")),
            endorser=EndorserOut(
                did=did,
                institution_id=record.institution_id if registered and record else None,
                name=who_fr if lang == "fr" else who_en,
                name_source="registry" if registered else "endorsement",
            ),
            issued_on=_date(document.get("validFrom")),
            comment=comment_fr if lang == "fr" else comment_en,
            comment_fr=comment_fr,
            comment_en=comment_en,
            message=message_fr if lang == "fr" else message_en,
            message_fr=message_fr,
            message_en=message_en,
            reasons=reasons,
        )

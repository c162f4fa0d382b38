"""What the registry publishes about the accredited institutions, for offline and third-party use.

* The **trust list**: a Verifiable Credential issued by the registry's own DID, listing every
  institution accredited right now with its DIDs, so an offline verifier can carry it. Its terms
  are defined in an inline JSON-LD context so that every field is covered by the signature.
* The **DCC known-DID registry** export: the JSON shape the Digital Credentials Consortium's
  ``registry.json`` files use, read by the Learner Credential Wallet and VerifierPlus through
  ``@digitalcredentials/issuer-registry-client`` (which reads ``data.registry`` — a map from DID to
  ``{name, location?, url?}`` — and ignores ``meta``). Shape confirmed against that client's
  ``src/index.ts`` and its legacy-registry test fixtures.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from sceau_registry.institutions.models import Institution, to_ms

VC_V2_CONTEXT: Final = "https://www.w3.org/ns/credentials/v2"
SCEAU_VOCAB: Final = "https://sceau.dev/vocab#"
TRUST_LIST_CONTEXT: Final[dict[str, Any]] = {
    "SceauTrustList": SCEAU_VOCAB + "SceauTrustList",
    "TrustedInstitutions": SCEAU_VOCAB + "TrustedInstitutions",
    "TrustedInstitution": SCEAU_VOCAB + "TrustedInstitution",
    "institutions": {"@id": SCEAU_VOCAB + "institutions", "@container": "@set"},
    "institutionId": SCEAU_VOCAB + "institutionId",
    "legalName": {"@id": "https://schema.org/legalName", "@container": "@language"},
    "category": SCEAU_VOCAB + "category",
    "jurisdiction": SCEAU_VOCAB + "jurisdiction",
    "domain": SCEAU_VOCAB + "domain",
    "dids": {"@id": SCEAU_VOCAB + "dids", "@type": "@id", "@container": "@set"},
    "accreditedTypes": {"@id": SCEAU_VOCAB + "accreditedTypes", "@container": "@set"},
    "roles": {"@id": SCEAU_VOCAB + "roles", "@container": "@set"},
}


def _iso(moment: datetime) -> str:
    return to_ms(moment).isoformat().replace("+00:00", "Z")


def trusted_now(institutions: Sequence[Institution], now: datetime) -> list[Institution]:
    """Institutions accredited at ``now`` that have at least one DID, in a stable order."""
    chosen = [i for i in institutions if i.dids and i.accredited_at(now)]
    return sorted(chosen, key=lambda i: i.institution_id)


def trust_list_subject(institutions: Sequence[Institution], now: datetime) -> list[dict[str, Any]]:
    """The per-institution entries of the trust list (what decides whether to re-sign)."""
    entries: list[dict[str, Any]] = []
    for inst in trusted_now(institutions, now):
        names = {lang: text for lang, text in (("fr", inst.name_fr), ("en", inst.name_en)) if text}
        entry: dict[str, Any] = {
            "type": "TrustedInstitution",
            "institutionId": inst.institution_id,
            "legalName": names,
            "category": inst.category,
            "jurisdiction": inst.jurisdiction,
            "dids": sorted(inst.dids),
            "accreditedTypes": inst.accredited_types_at(now),
            "roles": inst.roles_at(now),
        }
        if inst.domain:
            entry["domain"] = inst.domain
        entries.append(entry)
    return entries


def content_fingerprint(entries: Sequence[dict[str, Any]]) -> str:
    """A hash of the trust list entries: the list is re-signed only when this changes."""
    blob = json.dumps(list(entries), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(blob.encode()).hexdigest()


def trust_list_credential(
    entries: Sequence[dict[str, Any]],
    *,
    issuer_did: str,
    issuer_name: str,
    list_url: str,
    now: datetime,
    validity: timedelta,
    serial: str,
) -> dict[str, Any]:
    """Build the unsigned trust list credential (VCDM 2.0)."""
    return {
        "@context": [VC_V2_CONTEXT, dict(TRUST_LIST_CONTEXT)],
        "id": f"urn:uuid:{serial}",
        "type": ["VerifiableCredential", "SceauTrustList"],
        "issuer": {"id": issuer_did, "name": issuer_name},
        "validFrom": _iso(now),
        "validUntil": _iso(now + validity),
        "credentialSubject": {
            "id": list_url,
            "type": "TrustedInstitutions",
            "institutions": list(entries),
        },
    }


def dcc_registry(
    institutions: Sequence[Institution],
    *,
    now: datetime,
    language: Literal["fr", "en"],
) -> dict[str, Any]:
    """Export the institutions accredited at ``now`` in the DCC known-DID registry shape.

    ``meta.created`` is the first registration among them and ``meta.updated`` the latest change
    of any of them (lifecycle step or scope), as DCC's files record them.
    """
    trusted = trusted_now(institutions, now)
    registry: dict[str, dict[str, str]] = {}
    for inst in trusted:
        primary, fallback = (
            (inst.name_fr, inst.name_en) if language == "fr" else (inst.name_en, inst.name_fr)
        )
        entry = {"name": primary or fallback, "location": inst.jurisdiction}
        if inst.domain:
            entry["url"] = f"https://{inst.domain}"
        for did in sorted(inst.dids):
            registry[did] = dict(entry)
    created = min((i.registered_at for i in trusted), default=now)
    updated = max((_last_change(i) for i in trusted), default=now)
    return {
        "meta": {"created": _iso(created), "updated": _iso(updated)},
        "registry": registry,
    }


def _last_change(inst: Institution) -> datetime:
    moments = [change.recorded_at for change in inst.history]
    for scope in inst.scopes:
        moments.append(scope.granted_at)
        if scope.withdrawn_at is not None:
            moments.append(scope.withdrawn_at)
    return max(moments)

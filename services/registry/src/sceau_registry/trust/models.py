"""The trust answer about a DID as of a date (``GET /v1/issuers/{did}``), from pure domain data."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sceau_registry.institutions.models import Institution
from sceau_registry.keys.models import KeyRecord, find_key
from sceau_shared.events import InstitutionStatus


@dataclass(frozen=True)
class IssuerAnswer:
    """The answer to ``GET /v1/issuers/{did}`` (see docs/contracts.md)."""

    did: str
    registered: bool
    institution_id: str | None = None
    status: InstitutionStatus | None = None
    accredited: bool = False
    accredited_types: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)
    name: dict[str, str] = field(default_factory=dict)
    qa_body: str | None = None
    approvals: list[str] = field(default_factory=list)
    key: KeyRecord | None = None
    key_valid_at: bool = False

    def to_json(self) -> dict[str, object]:
        """Return the JSON object of the contract."""
        key: dict[str, object] | None = None
        if self.key is not None:
            key = {
                "verification_method": self.key.verification_method,
                "valid_at": self.key_valid_at,
                "active_from": _iso(self.key.active_from),
                "rotated_at": _iso(self.key.rotated_at),
                "revoked_as_of": _iso(self.key.revoked_as_of),
            }
        return {
            "did": self.did,
            "registered": self.registered,
            "institution_id": self.institution_id,
            "status": self.status.value if self.status is not None else None,
            "accredited": self.accredited,
            "accredited_types": self.accredited_types,
            "roles": self.roles,
            "name": self.name,
            "qa_body": self.qa_body,
            "approvals": self.approvals,
            "key": key,
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def answer_for(
    did: str,
    institution: Institution | None,
    keys: Sequence[KeyRecord],
    *,
    at: datetime,
    verification_method: str | None,
) -> IssuerAnswer:
    """Compute the trust answer about ``did`` as of ``at``."""
    if institution is None:
        return IssuerAnswer(did=did, registered=False)
    key = find_key(keys, verification_method) if verification_method else None
    return IssuerAnswer(
        did=did,
        registered=True,
        institution_id=institution.institution_id,
        status=institution.status_at(at),
        accredited=institution.accredited_at(at),
        accredited_types=institution.accredited_types_at(at),
        roles=institution.roles_at(at),
        name={"fr": institution.name_fr, "en": institution.name_en},
        qa_body=institution.qa_body,
        approvals=list(institution.approvals),
        key=key,
        key_valid_at=key.valid_at(at) if key is not None else False,
    )

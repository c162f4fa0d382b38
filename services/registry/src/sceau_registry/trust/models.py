"""The trust answer about a DID as of a date (``GET /v1/issuers/{did}``), from pure domain data.

Each answer carries its ``window``: the span of dates around ``at`` over which the same question
gets the same answer (no status step, scope start or end, or key activation or rotation falls
inside). A verifier then asks once per key and window instead of once per issuance time — a
cohort issued over a week costs one request, not hundreds, against the verifier's rate bucket
(issue 18, item 8). The window only holds for the registry's current knowledge: a later change
(a back-dated suspension) is announced by ``AccreditationChangedV1``, which drops it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Final

from sceau_registry.institutions.models import Institution
from sceau_registry.keys.models import KeyRecord, find_key
from sceau_shared.events import InstitutionStatus

__all__ = ["IssuerAnswer", "answer_for", "window_around"]


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
    window_from: datetime | None = None
    window_until: datetime | None = None

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
            "window": {"from": _iso(self.window_from), "until": _iso(self.window_until)},
        }


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


_MS: Final = timedelta(milliseconds=1)
_SECOND: Final = timedelta(seconds=1)


def _change_points(institution: Institution, key: KeyRecord | None) -> Iterable[datetime]:
    """Every date at which some part of the answer may change (more is only narrower)."""
    for change in institution.history:
        yield change.effective_at
    for scope in institution.scopes:
        yield scope.valid_from
        if scope.valid_until is not None:
            yield scope.valid_until
        if scope.withdrawn_at is not None:
            yield scope.withdrawn_at
    if key is not None:
        # KeyRecord.valid_at reads a whole-second date as any instant of that second.
        for edge in (key.active_from, key.active_from - _SECOND):
            yield edge
            yield edge + _MS
        if key.rotated_at is not None:
            yield key.rotated_at


def window_around(
    at: datetime, points: Iterable[datetime]
) -> tuple[datetime | None, datetime | None]:
    """``[from, until)`` around ``at`` containing no change point (``None``: unbounded)."""
    start: datetime | None = None
    end: datetime | None = None
    for point in points:
        if point <= at:
            start = point if start is None or point > start else start
        elif end is None or point < end:
            end = point
    return start, end


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
    start, end = window_around(at, _change_points(institution, key))
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
        window_from=start,
        window_until=end,
    )

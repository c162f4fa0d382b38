"""Builders shared by the registry unit tests."""

from __future__ import annotations

from datetime import UTC, datetime

from sceau_credentials.keys import SigningKey
from sceau_registry.institutions.models import Institution, Role, Scope, StatusChange
from sceau_registry.keys.models import KeyRecord
from sceau_shared.events import DidMethod, InstitutionStatus

T0 = datetime(2025, 1, 1, tzinfo=UTC)


def at(month: int, day: int = 1) -> datetime:
    return datetime(2025, month, day, tzinfo=UTC)


def change(status: InstitutionStatus, when: datetime, n: int = 0) -> StatusChange:
    return StatusChange(
        change_id=f"c{n}-{status.value}",
        status=status,
        effective_at=when,
        recorded_at=when,
        actor="alice",
        reason=f"because {status.value}",
    )


def scope(
    types: tuple[str, ...] = ("Certificate",),
    *,
    start: datetime = T0,
    end: datetime | None = None,
    role: Role = Role.ISSUER,
    sid: str = "s1",
) -> Scope:
    return Scope(
        scope_id=sid,
        role=role,
        achievement_types=types,
        levels=(),
        valid_from=start,
        valid_until=end,
        accreditor="Ministère",
        granted_at=start,
        granted_by="alice",
        reason="approved",
    )


def institution(
    *steps: tuple[InstitutionStatus, datetime],
    scopes: tuple[Scope, ...] = (),
    dids: tuple[str, ...] = ("did:web:example.edu",),
    iid: str = "cegep-a",
) -> Institution:
    history = [change(InstitutionStatus.PENDING, T0, 0)]
    history += [change(s, w, i + 1) for i, (s, w) in enumerate(steps)]
    return Institution(
        institution_id=iid,
        name_fr="Cégep A",
        name_en="College A",
        category="public-college",
        jurisdiction="CA-QC",
        domain="example.edu",
        qa_body=None,
        contact_email="registrar@example.edu",
        did_method=DidMethod.WEB,
        registered_at=T0,
        history=tuple(history),
        scopes=scopes,
        dids=dids,
    )


def key(
    did: str,
    *,
    start: datetime = T0,
    rotated: datetime | None = None,
    revoked: datetime | None = None,
    fragment: str | None = None,
    seed: int = 1,
) -> KeyRecord:
    signing = SigningKey.from_seed(bytes([seed]) * 32, did if did.startswith("did:web") else None)
    frag = fragment or signing.public_key_multibase
    return KeyRecord(
        verification_method=f"{did}#{frag}",
        did=did,
        institution_id="cegep-a",
        public_key_multibase=signing.public_key_multibase,
        active_from=start,
        rotated_at=rotated,
        revoked_as_of=revoked,
    )

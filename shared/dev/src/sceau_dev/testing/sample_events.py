"""Sample events for tests of the event plumbing (any valid event will do there)."""

from __future__ import annotations

from datetime import UTC, datetime

from sceau_shared.events import CredentialStatusChangedV1, StatusChange

__all__ = ["revocation"]


def revocation(
    credential_id: str, *, institution_id: str = "i", reason_code: str = "test"
) -> CredentialStatusChangedV1:
    """A credential's revocation, effective now."""
    return CredentialStatusChangedV1(
        producer="test",
        credential_id=credential_id,
        institution_id=institution_id,
        issuer_did="did:key:z",
        change=StatusChange.REVOKED,
        reason_code=reason_code,
        effective_at=datetime.now(UTC),
    )

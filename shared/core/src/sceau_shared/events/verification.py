"""Events about verifications (produced by the verifier). No personal data by design."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, Field

from sceau_shared.events.envelope import Event


class VerificationOutcome(StrEnum):
    """Overall answer given to the verifying party."""

    VERIFIED = "verified"
    NOT_VERIFIED = "not-verified"
    INCONCLUSIVE = "inconclusive"


class VerificationCompletedV1(Event):
    """A credential was verified. Identifies the credential only by a hash of its id."""

    TOPIC: ClassVar[str] = "verifier.verification-completed.v1"
    KEY_FIELD: ClassVar[str] = "credential_id_hash"

    credential_id_hash: str = Field(description="sha256 hex of the credential id")
    issuer_did: str | None = None
    achievement_id: str | None = None
    outcome: VerificationOutcome
    failed_checks: list[str] = Field(default_factory=list)
    verified_at: AwareDatetime

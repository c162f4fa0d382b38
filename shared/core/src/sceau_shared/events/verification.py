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
    """A credential was verified. Identifies the credential only by a hash of its id.

    ``issuer_did`` is set only when the credential's proof verified against a key of that DID
    (``issuer_proven``): anyone can submit an unsigned document that merely *names* an
    institution's DID, and such a submission must not be attributed to it (webhooks, counts).
    Events from producers that predate ``issuer_proven`` read ``False``: not attributed.
    """

    TOPIC: ClassVar[str] = "verifier.verification-completed.v1"
    KEY_FIELD: ClassVar[str] = "credential_id_hash"

    credential_id_hash: str = Field(description="sha256 hex of the credential id")
    issuer_did: str | None = Field(
        default=None, description="The issuer's DID, when the proof verified against its key."
    )
    issuer_proven: bool = Field(
        default=False,
        description="The proof verified against a key controlled by issuer_did; consumers "
        "attribute the verification to the issuer's institution only then.",
    )
    achievement_id: str | None = None
    outcome: VerificationOutcome
    failed_checks: list[str] = Field(default_factory=list)
    verified_at: AwareDatetime

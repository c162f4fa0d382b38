"""The notification request event: the ONLY event allowed to carry a learner's contact details.

It is produced by the issuer (which owns learners' contact data) and consumed by the notifier.
Never log it whole; log ``event_id`` and ``kind`` only.
"""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar, Literal

from pydantic import AwareDatetime, Field

from sceau_shared.emails import EmailAddress
from sceau_shared.events.envelope import Event
from sceau_shared.events.institutions import BilingualText


class NotificationKind(StrEnum):
    """Why the learner is being notified."""

    ISSUED = "issued"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    SUPERSEDED = "superseded"
    #: A fresh link to the learner's page, asked for with "send me a new link".
    LEARNER_LINK = "learner-link"
    #: A learner sends a verifiable share link to someone (``recipient_email`` is that person's).
    SHARED = "shared"
    #: Access receipt: one of the learner's share links was opened (the learner opted in).
    SHARE_OPENED = "share-opened"


class NotificationRequestedV1(Event):
    """Ask the notifier to tell a learner about one of their credentials."""

    TOPIC: ClassVar[str] = "issuer.notification-requested.v1"
    KEY_FIELD: ClassVar[str] = "credential_id"

    kind: NotificationKind
    credential_id: str
    institution_id: str
    recipient_email: EmailAddress
    recipient_name: str | None = None
    language: Literal["fr", "en"] = "fr"
    institution_name: BilingualText
    institution_contact: str | None = None
    achievement_name: BilingualText
    achievement_description: BilingualText = Field(default_factory=BilingualText)
    issued_at: AwareDatetime
    valid_until: AwareDatetime | None = None
    claim_url: str | None = None
    verification_url: str | None = None
    reason_code: str | None = None
    reason: BilingualText | None = None
    #: For status changes: the institution's own note on the change, as its staff wrote it (one
    #: language; shown to the learner beside the reason).
    note: str | None = Field(default=None, max_length=1000)
    superseded_by: str | None = None
    #: The learner's page for this credential (a short-lived bearer link).
    learner_page_url: str | None = None
    #: For ``shared`` and ``share-opened``: the share link and the learner's label for it.
    share_url: str | None = None
    share_label: str | None = None
    #: For ``shared``: who sends it (the learner's name as issued), and when the share expires.
    sender_name: str | None = None
    share_expires_at: AwareDatetime | None = None
    #: For ``share-opened``: when the link was opened.
    opened_at: AwareDatetime | None = None
    #: For ``issued``: the achievement's follow-up survey (R75), e-mailed ``survey_after_days``
    #: after issuance (the notifier's default when None).
    survey_url: str | None = Field(default=None, max_length=2000)
    survey_after_days: int | None = Field(default=None, ge=1, le=730)

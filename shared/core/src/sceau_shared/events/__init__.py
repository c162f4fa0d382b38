"""Versioned event contracts for the whole system, each bound to one topic."""

from sceau_shared.events.credentials import (
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    StatusChange,
    StatusEntryRef,
    StatusListPublishedV1,
    StatusPurpose,
)
from sceau_shared.events.deadletter import DeadLetterV1, dead_letter_topic
from sceau_shared.events.envelope import Event, utcnow
from sceau_shared.events.institutions import (
    AccreditationChangedV1,
    AccreditationScope,
    BilingualText,
    DidMethod,
    InstitutionRegisteredV1,
    InstitutionStatus,
)
from sceau_shared.events.keys import IssuerKeyPublishedV1, KeyAction
from sceau_shared.events.notifications import NotificationKind, NotificationRequestedV1
from sceau_shared.events.sharing import ShareOpenedV1
from sceau_shared.events.verification import VerificationCompletedV1, VerificationOutcome

ALL_EVENTS: tuple[type[Event], ...] = (
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    StatusListPublishedV1,
    IssuerKeyPublishedV1,
    InstitutionRegisteredV1,
    AccreditationChangedV1,
    VerificationCompletedV1,
    NotificationRequestedV1,
    ShareOpenedV1,
    DeadLetterV1,
)
"""Every event class; each binds exactly one topic (checked by a unit test)."""

__all__ = [
    "ALL_EVENTS",
    "AccreditationChangedV1",
    "AccreditationScope",
    "BilingualText",
    "CredentialIssuedV1",
    "CredentialStatusChangedV1",
    "DeadLetterV1",
    "DidMethod",
    "Event",
    "InstitutionRegisteredV1",
    "InstitutionStatus",
    "IssuerKeyPublishedV1",
    "KeyAction",
    "NotificationKind",
    "NotificationRequestedV1",
    "ShareOpenedV1",
    "StatusChange",
    "StatusEntryRef",
    "StatusListPublishedV1",
    "StatusPurpose",
    "VerificationCompletedV1",
    "VerificationOutcome",
    "dead_letter_topic",
    "utcnow",
]

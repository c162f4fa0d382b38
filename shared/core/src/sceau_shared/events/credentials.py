"""Events about issued credentials and their status lists (produced by the issuer)."""

from __future__ import annotations

from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from sceau_shared.events.envelope import Event


class StatusChange(StrEnum):
    """What happened to a credential's status."""

    REVOKED = "revoked"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    SUPERSEDED = "superseded"


class StatusPurpose(StrEnum):
    """Status list purposes we allocate entries for."""

    REVOCATION = "revocation"
    SUSPENSION = "suspension"


class StatusEntryRef(BaseModel):
    """Where a credential sits in a status list (no personal data)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    purpose: StatusPurpose
    list_id: str
    list_url: str
    index: int = Field(ge=0)


class CredentialIssuedV1(Event):
    """A credential was signed and stored. Carries no learner contact data."""

    TOPIC: ClassVar[str] = "issuer.credential-issued.v1"
    KEY_FIELD: ClassVar[str] = "credential_id"

    credential_id: str
    institution_id: str
    issuer_did: str
    achievement_id: str
    achievement_version: int = Field(ge=1)
    achievement_type: str
    profile: str
    issued_at: AwareDatetime
    valid_until: AwareDatetime | None = None
    status_entries: list[StatusEntryRef] = Field(default_factory=list)
    supersedes: str | None = None
    series_id: str | None = None
    batch_id: str | None = None
    """The batch the credential was issued in, null for a single issue (added in issue 19).

    Lets the issuer's insights count a credential in its cohort without reading it back. Events
    written before the field existed lack the key (``"batch_id" not in model_fields_set``): their
    consumers read the cohort from the stored credential instead.
    """


class CredentialStatusChangedV1(Event):
    """A credential was revoked, suspended, reinstated or superseded."""

    TOPIC: ClassVar[str] = "issuer.credential-status-changed.v1"
    KEY_FIELD: ClassVar[str] = "credential_id"

    credential_id: str
    institution_id: str
    issuer_did: str
    change: StatusChange
    reason_code: str
    effective_at: AwareDatetime
    superseded_by: str | None = None
    batch_id: UUID | None = None


class StatusListPublishedV1(Event):
    """A status list credential was (re)signed; ``version`` grows with every publication.

    The registry serves the newest version at ``list_url`` and ignores older ones that arrive late.
    """

    TOPIC: ClassVar[str] = "issuer.status-list-published.v1"
    KEY_FIELD: ClassVar[str] = "list_id"

    list_id: str
    institution_id: str
    issuer_did: str
    purpose: StatusPurpose
    list_url: str
    version: int = Field(ge=1)
    format: str = Field(description="'BitstringStatusList' or 'StatusList2021'")
    ttl_ms: int | None = Field(default=None, ge=0)
    credential: dict[str, object] = Field(description="The signed status list credential.")

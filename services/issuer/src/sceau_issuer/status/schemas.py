"""Status change requests."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ReasonCode(StrEnum):
    """Why a status changed (field requirement F.54)."""

    ISSUED_IN_ERROR = "issued-in-error"
    MISCONDUCT = "misconduct"
    SUPERSEDED = "superseded"
    HOLDER_REQUEST = "holder-request"
    KEY_COMPROMISE = "key-compromise"
    UNDER_REVIEW = "under-review"
    EXPIRED_REQUIREMENT = "requirement-lapsed"
    OTHER = "other"


class StatusAction(StrEnum):
    """What to do. Revocation is final; suspension can be lifted by reinstating."""

    REVOKE = "revoke"
    SUSPEND = "suspend"
    REINSTATE = "reinstate"


class StatusChangeRequest(BaseModel):
    """Change one credential's status."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"reason_code": "issued-in-error"}]}
    )

    reason_code: ReasonCode
    note: str | None = Field(default=None, max_length=1000)


class CredentialFilter(BaseModel):
    """Select credentials by attributes (bulk status changes)."""

    model_config = ConfigDict(extra="forbid")

    achievement_id: str | None = Field(default=None, max_length=64)
    achievement_version: int | None = Field(default=None, ge=1)
    batch_id: str | None = Field(default=None, max_length=64)
    status: str | None = Field(default=None, pattern="^(active|suspended)$")
    issued_after: datetime | None = None
    issued_before: datetime | None = None

    @model_validator(mode="after")
    def _selects_something(self) -> CredentialFilter:
        # An empty filter (or one naming only a status) matched every credential of the
        # institution: one request with ``"filter": {}`` revoked them all. A bulk change must
        # say which credentials it means.
        if (
            self.achievement_id is None
            and self.batch_id is None
            and self.issued_after is None
            and self.issued_before is None
        ):
            raise ValueError(
                "a filter must name achievement_id, batch_id, issued_after or issued_before"
            )
        return self


class BulkStatusRequest(BaseModel):
    """Change many credentials' status, by ids or by filter (at most 10,000 at once)."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "action": "suspend",
                    "reason_code": "under-review",
                    "filter": {"batch_id": "9b2f0c1d2e3f4a5b6c7d8e9f0a1b2c3d"},
                }
            ]
        },
    )

    action: StatusAction
    reason_code: ReasonCode
    credential_ids: list[str] | None = Field(default=None, min_length=1, max_length=10_000)
    filter: CredentialFilter | None = None
    note: str | None = Field(
        default=None,
        max_length=1000,
        description="Stored with each change and told to each learner, as on a single change.",
    )

    @model_validator(mode="after")
    def _one_selector(self) -> BulkStatusRequest:
        if (self.credential_ids is None) == (self.filter is None):
            raise ValueError("give exactly one of credential_ids or filter")
        return self


class ReissueRequest(BaseModel):
    """Issue a corrected (or renewed) credential that supersedes an old one."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"mode": "correction"}]}
    )

    mode: str = Field(
        default="correction",
        pattern="^(correction|renewal)$",
        description="correction revokes the old credential; renewal only marks it superseded.",
    )
    achievement_version: int | None = Field(default=None, ge=1)
    recipient_name: str | None = Field(default=None, min_length=1, max_length=200)

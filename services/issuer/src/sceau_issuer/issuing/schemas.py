"""Issuing requests and answers."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sceau_credentials.ob3.models import is_uri
from sceau_issuer.achievements.schemas import CredentialProfile
from sceau_shared.emails import EmailAddress


class RecipientInput(BaseModel):
    """The learner. Contact details stay in the issuer database and the notifier's event."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: EmailAddress = Field(description="Written into the credential only as a salted hash.")
    name: str | None = Field(default=None, min_length=1, max_length=200)
    did: str | None = Field(default=None, max_length=500)
    language: Literal["fr", "en"] = "fr"

    @field_validator("did")
    @classmethod
    def _check_did(cls, value: str | None) -> str | None:
        if value is not None and (not value.startswith("did:") or not is_uri(value)):
            raise ValueError("must be a DID (did:method:...)")
        return value


class ResultInput(BaseModel):
    """A result obtained on one of the achievement's assessments (1-based)."""

    model_config = ConfigDict(extra="forbid")

    assessment: int = Field(default=1, ge=1, le=50)
    value: str | None = Field(default=None, max_length=200)
    status: (
        Literal[
            "Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"
        ]
        | None
    ) = None


class EvidenceInput(BaseModel):
    """Evidence the learner agreed to include (e.g. a capstone repository)."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2000)
    name: str | None = Field(default=None, max_length=200)
    description: str | None = Field(default=None, max_length=2000)

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not is_uri(value):
            raise ValueError("must be an absolute URI")
        return value


_ISSUE_EXAMPLE: dict[str, Any] = {
    "achievement_id": "3f1c6c0e8b9d4e3f9a1b2c3d4e5f6a7b",
    "recipient": {"email": "ada@example.org", "name": "Ada Tremblay", "language": "fr"},
}


class IssueRequest(BaseModel):
    """Issue one credential under the achievement's newest (or a given) published version."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [_ISSUE_EXAMPLE]})

    achievement_id: str = Field(min_length=1, max_length=64)
    achievement_version: int | None = Field(default=None, ge=1, le=1_000_000)
    recipient: RecipientInput
    profile: CredentialProfile | None = Field(
        default=None, description="Defaults to the achievement's profile."
    )
    results: list[ResultInput] = Field(default_factory=list, max_length=50)
    evidence: list[EvidenceInput] = Field(default_factory=list, max_length=20)
    credits_earned: float | None = Field(default=None, ge=0, le=10_000)


class BatchRecipient(RecipientInput):
    """One learner of a batch, with what is theirs alone: results, evidence, credits earned.

    Checked against the achievement when the batch is accepted (a refusal names the recipient's
    index); stored with the recipient's input, never in the credential record's ``recipient``.
    """

    results: list[ResultInput] = Field(default_factory=list, max_length=50)
    evidence: list[EvidenceInput] = Field(default_factory=list, max_length=20)
    credits_earned: float | None = Field(default=None, ge=0, le=10_000)


#: The fields a batch recipient adds to :class:`RecipientInput`.
PER_RECIPIENT = ("results", "evidence", "credits_earned")


class BatchRequest(BaseModel):
    """Issue one achievement to a cohort (up to 10,000 recipients) as an asynchronous job."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "achievement_id": "3f1c6c0e8b9d4e3f9a1b2c3d4e5f6a7b",
                    "recipients": [
                        {
                            "email": "ada@example.org",
                            "name": "Ada Tremblay",
                            "language": "fr",
                            "results": [{"assessment": 1, "value": "A"}],
                            "credits_earned": 1.5,
                        },
                        {"email": "alan@example.org", "language": "en"},
                    ],
                }
            ]
        },
    )

    achievement_id: str = Field(min_length=1, max_length=64)
    achievement_version: int | None = Field(default=None, ge=1, le=1_000_000)
    profile: CredentialProfile | None = None
    recipients: list[BatchRecipient] = Field(min_length=1, max_length=10_000)

    @field_validator("recipients", mode="before")
    @classmethod
    def _plain_recipients(cls, value: object) -> object:
        """Accept plain :class:`RecipientInput` objects too (as before per-learner fields)."""
        if isinstance(value, list):
            return [v.model_dump() if type(v) is RecipientInput else v for v in value]
        return value

    def stored(self) -> dict[str, Any]:
        """The request as JSON, a recipient's per-learner fields only when given.

        Used for the idempotency fingerprint and the stored inputs, so a batch without grades
        keeps the fingerprint it had before recipients could carry them.
        """
        body = self.model_dump(mode="json")
        for recipient in body["recipients"]:
            for name in PER_RECIPIENT:
                if recipient.get(name) in (None, []):
                    recipient.pop(name, None)
        return body


class CredentialSummary(BaseModel):
    """A credential as listed (no signed document)."""

    credential_id: str
    achievement_id: str
    achievement_version: int
    achievement_type: str
    profile: str
    status: str
    reason_code: str | None = None
    issuer_did: str
    recipient: dict[str, Any]
    issued_at: datetime
    valid_until: datetime | None = None
    batch_id: str | None = None
    supersedes: str | None = None
    superseded_by: str | None = None
    series_id: str | None = None


class CredentialDetail(CredentialSummary):
    """A credential with its signed document and a fresh claim link."""

    document: dict[str, Any] | str
    claim_url: str


class Page(BaseModel):
    """A page of results."""

    items: list[Any]
    page: int
    page_size: int
    total: int

"""HTTP input and output models of the verifier (they also document the OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Lang = Literal["fr", "en"]


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CheckOut(_Out):
    """One check, with its reason in the asked language and in both languages."""

    name: str = Field(description="structure, proof, validity, status, issuer or presentation")
    status: Literal["passed", "failed", "inconclusive"]
    required: bool = Field(description="Whether this check counts towards 'verified'.")
    problem_type: str | None = Field(
        default=None, description="W3C (or Sceau) problem type URI when not passed."
    )
    code: int | None = Field(default=None, description="Specification error code, if any.")
    reason: str
    reason_fr: str
    reason_en: str
    details: dict[str, Any] = Field(default_factory=dict)


class WarningOut(_Out):
    """Something worth knowing that does not change the outcome."""

    code: str
    problem_type: str | None = None
    message: str
    message_fr: str
    message_en: str


class Competency(_Out):
    """A competency the credential attests, with the framework it belongs to."""

    name: str
    description: str | None = None
    framework: str | None = None
    code: str | None = None
    url: str | None = None
    skill_type: str | None = None


class Level(_Out):
    """The level reached and the human-readable definition of that level."""

    name: str
    definition: str | None = None
    url: str | None = None
    framework: str | None = None


class Assessment(_Out):
    """How the learning was assessed and the result obtained, if recorded."""

    name: str | None = None
    method: str | None = None
    result_type: str | None = None
    result: str | None = None


class Institution(_Out):
    """An institution as the registry (preferred) or the credential names it."""

    did: str | None = None
    name: str | None = None
    name_source: Literal["registry", "credential"] | None = None
    registered: bool | None = None
    status: str | None = None
    qa_body: str | None = Field(
        default=None, description="Quality-assurance or approval body, as the registry records it."
    )
    approvals: list[str] = Field(
        default_factory=list,
        description="QA facts from the registry (R59): institutional-approval, "
        "ministry-approval, osap-eligible, sector-review.",
    )


class Summary(_Out):
    """What the credential attests, in plain words, in the asked language."""

    lang: Lang
    credential_id: str | None = None
    format: str | None = None
    issuer: Institution
    recipient_name: str | None = None
    achievement_id: str | None = None
    achievement_type: str | None = None
    achievement_name: str | None = None
    achievement_description: str | None = None
    criteria: str | None = None
    competencies: list[Competency] = Field(default_factory=list)
    level: Level | None = None
    hours: float | None = None
    assessments: list[Assessment] = Field(default_factory=list)
    delivery_mode: str | None = None
    pacing: str | None = None
    applied_learning: bool | None = None
    instruction_languages: list[str] = Field(default_factory=list)
    credits: float | None = None
    credit_status: Literal["credit", "non-credit"] | None = Field(
        default=None,
        description="Credit-bearing or non-credit, as the achievement says (Sceau writes it as "
        "an otherIdentifier of type ext:creditStatus).",
    )
    field_of_study: str | None = None
    quality_assurance: list[str] = Field(default_factory=list)
    issued_on: datetime | None = None
    valid_until: datetime | None = None
    language_fallback: bool = Field(
        default=False, description="True when the asked language was not in the credential."
    )


class ReasonOut(_Out):
    """Why an endorsement is unverified (FR/EN)."""

    code: str
    message: str
    message_fr: str
    message_en: str


class EndorserOut(_Out):
    """Who endorsed: the registry's name, or the one the endorsement claims (``name_source``).

    The registry's name is used when the endorsement's proof is valid and the body registered.
    """

    did: str | None = None
    institution_id: str | None = None
    name: str
    name_source: Literal["registry", "endorsement"]


class EndorsementOut(_Out):
    """One endorsement embedded in the credential, checked on its own (docs/verifier.md)."""

    status: Literal["verified", "unverified"]
    verified: bool
    holder: Literal["achievement", "credential"] = Field(
        description="Where it is embedded: the achievement, or the credential itself."
    )
    endorsed: str | None = Field(default=None, description="What it must be about (an id).")
    id: str | None = None
    endorser: EndorserOut
    issued_on: datetime | None = None
    comment: str | None = None
    comment_fr: str | None = None
    comment_en: str | None = None
    message: str = Field(description="'Endorsed by X — verified' or '… — unverified'.")
    message_fr: str
    message_en: str
    reasons: list[ReasonOut] = Field(default_factory=list)


class VerifyResponse(_Out):
    """The verifier's answer for one credential or presentation."""

    verified: bool
    outcome: Literal["verified", "not-verified", "inconclusive"]
    lang: Lang
    verified_at: datetime
    checks: list[CheckOut]
    warnings: list[WarningOut] = Field(default_factory=list)
    summary: Summary | None = None
    superseded_by: str | None = Field(
        default=None,
        description="The id of the credential that replaces this one, when its institution "
        "re-issued it (R52). Not a revocation by itself: a renewal leaves the old credential "
        "valid; a correction also revokes it (then the status check fails).",
    )
    refreshed: VerifyResponse | None = Field(
        default=None,
        description="The credential its issuer's refresh service (1EdTechCredentialRefresh) "
        "serves today, verified in full; followed once, after the proof check, for registered "
        "issuers only.",
    )
    endorsements: list[EndorsementOut] = Field(
        default_factory=list,
        description="Each endorsement the credential carries, verified or not; an unverified "
        "endorsement does not change the credential's own outcome.",
    )
    baked_in: Literal["png", "svg"] | None = Field(
        default=None,
        description="The credential was read from a baked badge image of this kind.",
    )
    credentials: list[VerifyResponse] = Field(
        default_factory=list, description="For a presentation: one answer per credential in it."
    )


class BatchItemError(_Out):
    """A batch item that could not be read at all (the rest of the batch is still answered)."""

    type: str
    title: str
    status: int
    detail: str


class BatchItem(_Out):
    """One answer of a batch, in the order of the request."""

    index: int
    result: VerifyResponse | None = None
    error: BatchItemError | None = None


class BatchResponse(_Out):
    """Answers of ``POST /v1/verify/batch``."""

    count: int
    verified: int
    results: list[BatchItem]


class VerifyRequest(BaseModel):
    """``POST /v1/verify`` JSON body (the credential itself is also accepted as the body)."""

    model_config = ConfigDict(extra="forbid")

    credential: dict[str, Any] | str = Field(
        description="A credential or presentation object, or a VC-JWT string."
    )
    challenge: str | None = Field(default=None, max_length=512)
    domain: str | None = Field(default=None, max_length=512)


class BatchRequest(BaseModel):
    """``POST /v1/verify/batch`` JSON body."""

    model_config = ConfigDict(extra="forbid")

    credentials: list[dict[str, Any] | str] = Field(min_length=1, max_length=100)

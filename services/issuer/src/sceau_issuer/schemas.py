"""HTTP models of the issuer API: every answer's shape, and the request bodies the routers share.

The request bodies live with their domain (``*/schemas.py``) and are re-exported here. The answer
models describe what the routes have always returned, so ``/openapi.json`` shows real shapes
while the JSON stays as it was:

* dates the issuer writes itself are stored as ``datetime`` and answered in Python's ISO form
  (``2026-01-01T12:00:00.123000+00:00``): :data:`Timestamp` keeps that form;
* dates that were already JSON before they reached the route (key records, accreditations,
  generated report times) stay the very strings they were: :data:`TimestampText`;
* optional fields that a stored record may simply lack (``status_changed_at`` ...) are left out of
  the answer rather than sent as ``null``: those routes answer with ``exclude_unset``;
* a signed credential is a JSON-LD document (or a compact JWT) whose shape is the credential
  engine's, not this API's: it is described as an open object.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    StrictBool,
    WithJsonSchema,
)

from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.endorsements.schemas import EndorsementList, EndorsementRequest, EndorsementView
from sceau_issuer.issuing.schemas import BatchRequest, IssueRequest
from sceau_issuer.series.schemas import SeriesInput
from sceau_issuer.status.schemas import BulkStatusRequest, ReissueRequest, StatusChangeRequest

__all__ = [
    "AccreditationView",
    "AchievementInput",
    "AchievementList",
    "AchievementSummary",
    "AchievementVersionView",
    "BatchItemList",
    "BatchItemView",
    "BatchReport",
    "BatchRequest",
    "BatchView",
    "BulkStatusRequest",
    "BulkStatusResult",
    "CredentialDetail",
    "CredentialList",
    "CredentialSummary",
    "DidDocument",
    "EndorsementList",
    "EndorsementRequest",
    "EndorsementView",
    "InstitutionSettingsUpdate",
    "InstitutionSettingsView",
    "InstitutionView",
    "IssueRequest",
    "KeyRevocation",
    "KeyView",
    "ReissueRequest",
    "ReportSummary",
    "SeriesInput",
    "SeriesView",
    "SignedCredential",
    "StatusChangeRequest",
    "StatusChangeResult",
    "Timestamp",
    "TimestampText",
]


def _iso(value: datetime) -> str:
    return value.isoformat()


Timestamp = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]
"""A date the issuer stored itself, answered as ``datetime.isoformat()``."""

TimestampText = Annotated[str, WithJsonSchema({"type": "string", "format": "date-time"})]
"""A date already rendered as RFC 3339 text before it reaches the answer (kept verbatim)."""


class _Answer(BaseModel):
    """Answers are built by the issuer: no input checks beyond the types."""

    model_config = ConfigDict(populate_by_name=True)


# --- institution ----------------------------------------------------------------------------


class KeyRevocation(BaseModel):
    """Revoke a key as of a date: credentials it signed from then on stop verifying."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"as_of": "2026-01-01T00:00:00Z"}]}
    )

    as_of: AwareDatetime


class KeyView(_Answer):
    """One signing key of the institution, public parts only."""

    key_id: str
    key_type: str = Field(
        default="Ed25519",
        description="Ed25519 (JSON-LD proofs, EdDSA JWTs; key_id k<n>) or P-256 (ES256 JWTs; p<n>)",
    )
    version: int
    did: str
    verification_method: str
    public_key_multibase: str
    state: str = Field(description="active, rotated or revoked")
    active_from: TimestampText
    rotated_at: TimestampText | None = None
    revoked_as_of: TimestampText | None = None


class AccreditationView(_Answer):
    """The latest accreditation the registry announced."""

    status: str
    scopes: list[dict[str, Any]] = Field(
        description="Accredited scopes (achievement types, levels, role, validity)"
    )
    effective_at: TimestampText


class InstitutionSettingsUpdate(BaseModel):
    """The institution's settings, all of them (``PUT`` replaces them)."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"suspension": True}]}
    )

    suspension: StrictBool = Field(
        description="Give the ob3-v2 credentials signed from now on a suspension entry besides "
        "the revocation one, so they can be suspended and reinstated. Off by default: such "
        "credentials carry two status entries, which 1EdTech's Open Badges 3.0 JSON Schema "
        "refuses (it allows one). Credentials already issued keep the entries they have."
    )
    jwt_algorithm: Literal["ES256", "EdDSA"] | None = Field(
        default=None,
        description="How jwt credentials are signed from now on: ES256 (the default, with the "
        "institution's P-256 key; what 1EdTech certification accepts) or EdDSA (the Ed25519 "
        "key). Absent: unchanged. A did:key institution signs EdDSA whatever this says.",
    )
    selective_disclosure: StrictBool | None = Field(
        default=None,
        description="Also secure each ob3-v2 credential signed from now on with an "
        "ecdsa-sd-2023 base proof (the institution's P-256 key: did:web only), so a learner's "
        "share that withholds the result or evidence is a disclosure derived from the original "
        "instead of a re-signed copy. Off by default. Absent: unchanged.",
    )


class InstitutionSettingsView(_Answer):
    """What the institution chose about the credentials it issues."""

    suspension: bool = Field(
        description="Whether ob3-v2 credentials signed now carry a suspension entry (default off)"
    )
    jwt_algorithm: str = Field(
        default="ES256", description="ES256 (default) or EdDSA: how jwt credentials are signed"
    )
    selective_disclosure: bool = Field(
        default=False,
        description="Whether ob3-v2 credentials signed now get an ecdsa-sd-2023 base copy",
    )
    updated_at: Timestamp | None = Field(description="When a setting last changed (null: never)")


class InstitutionView(_Answer):
    """The calling institution, its public keys, its accreditation and its settings."""

    institution_id: str
    name: dict[str, str]
    languages: list[str]
    bilingual: bool
    did: str
    did_method: str
    status: str
    active_key_id: str
    active_p256_key_id: str | None = Field(
        default=None, description="The P-256 key signing ES256 JWTs (null for did:key)"
    )
    keys: list[KeyView]
    accreditation: AccreditationView | None
    settings: InstitutionSettingsView


class AchievementCounts(_Answer):
    """Credential counts of one achievement per status (``null``: suppressed small cell)."""

    achievement_id: str
    counts: dict[str, int | None]


class ReportSummary(_Answer):
    """Aggregate counts per achievement, small cells suppressed."""

    suppression_threshold: int
    generated_at: TimestampText
    achievements: list[AchievementCounts]


class DidDocument(BaseModel):
    """A DID document (JSON-LD); its content is the DID method's, described loosely here."""

    model_config = ConfigDict(extra="allow")

    id: str


# --- achievements and series -----------------------------------------------------------------


class AchievementVersionView(_Answer):
    """One version of an achievement."""

    achievement_id: str
    version: int
    state: str = Field(description="draft or published")
    definition: dict[str, Any] = Field(description="The definition as submitted (AchievementInput)")
    created_at: Timestamp
    published_at: Timestamp | None


class AchievementSummary(_Answer):
    """An achievement: its latest version and which version issuing uses."""

    achievement_id: str
    latest_version: int
    published_version: int | None
    latest: AchievementVersionView


class AchievementList(_Answer):
    """One page of the institution's achievements, oldest first."""

    items: list[AchievementSummary]
    page: int
    page_size: int
    total: int


class SeriesComponentView(_Answer):
    """One component of a series."""

    achievement_id: str
    required: bool


class SeriesView(_Answer):
    """A series as stored (``_id`` and ``series_id`` are the same identifier)."""

    id_: str = Field(alias="_id")
    institution_id: str
    name: dict[str, str]
    structure: str
    components: list[SeriesComponentView]
    electives_required: int
    overall_achievement_id: str
    created_at: Timestamp
    series_id: str


# --- credentials -----------------------------------------------------------------------------


SignedCredential = Annotated[
    dict[str, Any] | str,
    WithJsonSchema(
        {
            "description": "The signed credential: a JSON-LD document with its proof (ob3-v1, "
            "ob3-v2) or a compact JWT (jwt); its shape is the credential engine's",
            "anyOf": [{"type": "object", "additionalProperties": True}, {"type": "string"}],
        }
    ),
]


class CredentialSummary(_Answer):
    """A credential as listed (without its signed document).

    Fields a record may lack (a change never made, a credential never superseded) are left out.
    """

    model_config = ConfigDict(extra="allow")

    institution_id: str
    achievement_id: str
    achievement_version: int
    achievement_type: str
    profile: str
    issuer_did: str
    recipient: dict[str, Any] = Field(description="email, name, did, language")
    status: str = Field(description="active, suspended or revoked")
    reason_code: str | None = None
    status_note: str | None = Field(
        default=None, description="The note given with the latest status change, if any"
    )
    status_index: int
    status_lists: dict[str, str] = Field(description="Status list id per purpose")
    issued_at: Timestamp
    valid_until: Timestamp | None = None
    batch_id: str | None = None
    supersedes: str | None = None
    superseded_by: str | None = None
    series_id: str | None = None
    status_changed_at: Timestamp | None = None
    superseded_at: Timestamp | None = None
    credential_id: str
    id: str = Field(description="urn:uuid:<credential_id>, the credential's id")


class ConsentView(_Answer):
    """The learner's answer about a credential (``pending`` until they accept or decline)."""

    state: Literal["pending", "accepted", "declined"]
    at: Timestamp | None = None


class CredentialDetail(CredentialSummary):
    """A credential with its signed document and a fresh claim link."""

    document: SignedCredential | None = None
    claim_url: str
    consent: ConsentView | None = Field(
        default=None, description="The learner's consent (on GET /v1/credentials/{id})"
    )


class CredentialList(_Answer):
    """One page of credentials, newest first."""

    items: list[CredentialSummary]
    page: int
    page_size: int
    total: int


class StatusChangeResult(_Answer):
    """The outcome for one credential of a bulk change (``status`` if ok, ``error`` if not)."""

    credential_id: str
    status: str | None = None
    ok: bool
    error: str | None = None


class BulkStatusResult(_Answer):
    """One result per credential, and the totals."""

    results: list[StatusChangeResult]
    changed: int
    refused: int


# --- batches ---------------------------------------------------------------------------------


class BatchReport(_Answer):
    """The final report of a completed batch."""

    total: int
    issued: int
    duplicate: int
    failed: int
    processing_s: float


class BatchView(_Answer):
    """A batch's progress and, once complete, its report."""

    batch_id: str
    state: str = Field(description="accepting, pending, running, paused or completed")
    paused_reason: str | None = Field(
        default=None,
        description="Why a paused batch waits: institution-not-active (suspended or retired) "
        "or not-accredited; it carries on by itself once the institution may issue again",
    )
    achievement_id: str
    achievement_version: int
    profile: str
    total: int
    counts: dict[str, int]
    pending: int
    progress: float
    created_at: Timestamp
    started_at: Timestamp | None
    completed_at: Timestamp | None
    report: BatchReport | None


class BatchItemView(_Answer):
    """One recipient line of a batch."""

    seq: int
    email: str
    state: str = Field(description="pending, issued, duplicate or failed")
    credential_id: str | None
    error: str | None


class BatchItemList(_Answer):
    """One page of a batch's recipient lines."""

    items: list[BatchItemView]
    page: int
    page_size: int
    total: int

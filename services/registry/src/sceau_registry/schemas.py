"""Request and response bodies of the registry's HTTP API (documented in its OpenAPI schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
)

from sceau_registry.institutions.models import (
    APPROVALS,
    CATEGORIES,
    Institution,
    Role,
    Scope,
    to_ms,
)
from sceau_shared.emails import EmailAddress
from sceau_shared.events import DidMethod, InstitutionStatus

Category = Literal[
    "public-college",
    "university",
    "indigenous-institute",
    "private-provider",
    "industry-association",
    "employer",
    "regulator",
]
assert set(get_args(Category)) == set(CATEGORIES)  # noqa: S101 - one list, two spellings

Approval = Literal["institutional-approval", "ministry-approval", "osap-eligible", "sector-review"]
assert set(get_args(Approval)) == set(APPROVALS)  # noqa: S101 - one list, two spellings


def _utc(value: datetime) -> datetime:
    try:
        return to_ms(value)
    except (OverflowError, ValueError) as exc:
        raise ValueError("date out of range once converted to UTC") from exc


UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
"""An RFC 3339 date-time with an offset, converted to UTC (millisecond precision)."""

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=300)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Token = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120, pattern=r"^\S+$")
]
InstitutionId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]
Domain = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        max_length=253,
        pattern=r"^(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$",
    ),
]


LanguageTag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, pattern=r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$"
    ),
]
"""A BCP 47 language tag (``fr``, ``en``, ``es``, ``fr-ca``), lower-cased."""


def _distinct(values: list[str]) -> list[str]:
    if len(set(values)) != len(values):
        raise ValueError("each language once")
    return values


Languages = Annotated[
    list[LanguageTag], Field(min_length=1, max_length=10), AfterValidator(_distinct)
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LegalName(_Body):
    """Legal name in French and English; at least one is required."""

    fr: Text = ""
    en: Text = ""


class RegisterInstitution(_Body):
    """Register an institution (it starts ``pending``)."""

    institution_id: InstitutionId | None = Field(
        default=None, description="Stable slug; generated when omitted."
    )
    legal_name: LegalName
    category: Category
    jurisdiction: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=2, max_length=100)
    ]
    domain: Domain | None = None
    qa_body: Text | None = Field(default=None, description="Quality-assurance or approval body.")
    approvals: list[Approval] = Field(
        default_factory=list,
        max_length=len(APPROVALS),
        description="QA facts (R59): institutional approval, ministry approval, OSAP "
        "eligibility, sector or industry review. Shown to verifiers.",
    )
    contact_email: EmailAddress | None = None
    languages: Languages = Field(
        default_factory=lambda: ["fr", "en"],
        description="Languages it publishes in. Achievements must carry both French and "
        "English only when both are listed (a bilingual institution, R18); a monolingual or "
        "foreign provider lists its own.",
    )
    did_method: DidMethod = DidMethod.KEY
    reason: Reason = "registered"
    effective_at: UtcDatetime | None = Field(
        default=None,
        description="When the registration took effect (default now; backdate when onboarding "
        "an institution whose history predates the registry).",
    )


class ChangeStatus(_Body):
    """Move an institution along its lifecycle (pending → active ⇄ suspended → former)."""

    status: InstitutionStatus
    reason: Reason
    effective_at: UtcDatetime | None = Field(
        default=None, description="When it takes effect (default now; may be backdated)."
    )


class GrantScope(_Body):
    """Accredit an institution for achievement types (and optionally levels) over a window."""

    achievement_types: Annotated[list[Token], Field(min_length=1, max_length=50)]
    levels: Annotated[list[Token], Field(max_length=50)] = []
    role: Role = Role.ISSUER
    valid_from: UtcDatetime
    valid_until: UtcDatetime | None = None
    accreditor: Text | None = None
    reason: Reason


class WithdrawScope(_Body):
    """End an accreditation scope (kept in the history with the date it ended)."""

    reason: Reason
    effective_at: UtcDatetime | None = None


class ScopeView(BaseModel):
    """An accreditation scope as shown publicly."""

    scope_id: str
    role: Role
    achievement_types: list[str]
    levels: list[str]
    valid_from: datetime
    valid_until: datetime | None
    accreditor: str | None
    withdrawn_at: datetime | None

    @classmethod
    def of(cls, scope: Scope) -> ScopeView:
        return cls(
            scope_id=scope.scope_id,
            role=scope.role,
            achievement_types=list(scope.achievement_types),
            levels=list(scope.levels),
            valid_from=scope.valid_from,
            valid_until=scope.valid_until,
            accreditor=scope.accreditor,
            withdrawn_at=scope.withdrawn_at,
        )


class HistoryView(BaseModel):
    """One lifecycle step."""

    status: InstitutionStatus
    effective_at: datetime
    recorded_at: datetime
    actor: str
    reason: str


class InstitutionView(BaseModel):
    """An institution as the public sees it (no contact details, no operator names)."""

    institution_id: str
    legal_name: LegalName
    category: str
    jurisdiction: str
    domain: str | None
    qa_body: str | None
    approvals: list[str]
    languages: list[str]
    did_method: DidMethod
    dids: list[str]
    status: InstitutionStatus
    accredited: bool
    accredited_types: list[str]
    roles: list[str]
    scopes: list[ScopeView]
    registered_at: datetime

    @classmethod
    def of(cls, inst: Institution, now: datetime) -> InstitutionView:
        moment = to_ms(now)
        return cls(
            institution_id=inst.institution_id,
            legal_name=LegalName(fr=inst.name_fr, en=inst.name_en),
            category=inst.category,
            jurisdiction=inst.jurisdiction,
            domain=inst.domain,
            qa_body=inst.qa_body,
            approvals=list(inst.approvals),
            languages=list(inst.languages),
            did_method=inst.did_method,
            dids=list(inst.dids),
            status=inst.status,
            accredited=inst.accredited_at(moment),
            accredited_types=inst.accredited_types_at(moment),
            roles=inst.roles_at(moment),
            scopes=[ScopeView.of(s) for s in inst.scopes],
            registered_at=inst.registered_at,
        )


class OperatorInstitutionView(InstitutionView):
    """An institution as operators see it: with contact and the full lifecycle history."""

    contact_email: str | None
    history: list[HistoryView]
    rev: int

    @classmethod
    def full(cls, inst: Institution, now: datetime) -> OperatorInstitutionView:
        public = InstitutionView.of(inst, now)
        return cls(
            **public.model_dump(),
            contact_email=inst.contact_email,
            history=[
                HistoryView(
                    status=c.status,
                    effective_at=c.effective_at,
                    recorded_at=c.recorded_at,
                    actor=c.actor,
                    reason=c.reason,
                )
                for c in inst.history
            ],
            rev=inst.rev,
        )


class InstitutionList(BaseModel):
    """A page of institutions."""

    items: list[InstitutionView]
    page: int
    page_size: int
    total: int


class AuditEntry(BaseModel):
    """One audit log entry."""

    id: str
    at: datetime
    actor: str
    action: str
    institution_id: str | None
    reason: str
    details: dict[str, Any]


class AuditList(BaseModel):
    """A page of audit entries, oldest first."""

    items: list[AuditEntry]
    page: int
    page_size: int
    total: int


class KeyView(BaseModel):
    """The asked verification method and its window."""

    verification_method: str
    valid_at: bool
    active_from: datetime | None
    rotated_at: datetime | None
    revoked_as_of: datetime | None


class AnswerWindowView(BaseModel):
    """``[from, until)``: no status step, scope or key change falls inside (null: unbounded)."""

    model_config = ConfigDict(populate_by_name=True)

    from_: datetime | None = Field(default=None, alias="from")
    until: datetime | None = None


class IssuerAnswerView(BaseModel):
    """``GET /v1/issuers/{did}`` (see docs/contracts.md): the issuer's standing *as of* ``at``."""

    did: str
    registered: bool
    institution_id: str | None
    status: InstitutionStatus | None = Field(
        description="Status in force at `at`; null if unknown or not yet registered then."
    )
    accredited: bool
    accredited_types: list[str]
    roles: list[str]
    name: dict[str, str]
    qa_body: str | None = Field(default=None, description="Quality-assurance or approval body.")
    approvals: list[str] = Field(
        default_factory=list,
        description="QA facts recorded for the institution (R59); unknown values may be added.",
    )
    key: KeyView | None
    window: AnswerWindowView | None = Field(
        default=None,
        description="Dates around `at` over which this answer stays the same (issue 18).",
    )


class DccRegistryEntry(BaseModel):
    """One DID of the DCC known-DID registry export."""

    name: str
    location: str | None = None
    url: str | None = None


class DccRegistry(BaseModel):
    """The DCC known-DID registry shape (``meta`` + ``registry`` map from DID to entry)."""

    meta: dict[str, str]
    registry: dict[str, DccRegistryEntry]


class Created(BaseModel):
    """Identifier of something created."""

    id: str

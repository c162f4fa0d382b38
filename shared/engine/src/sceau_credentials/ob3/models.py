"""Pydantic models of the Open Badges 3.0 objects Sceau writes into credentials.

Field names are snake_case in Python and camelCase on the wire (``alias_generator``); dump with
:func:`to_json` so that absent optional fields are omitted rather than written as ``null`` (the
OB JSON Schema rejects ``null`` for most properties). Types follow 1EdTech's OB 3.0 data model:
required properties are required here too, so an object that builds is already structurally
right; :mod:`.validation` then checks the assembled credential as a whole.

Sceau extensions (``time_required``, ``course_mode``, ...) are typed here and defined as JSON-LD
terms by the inline context in :mod:`.constants`; see docs/credentials.md for the mapping.
"""

from __future__ import annotations

import re
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "Achievement",
    "AchievementSubject",
    "Alignment",
    "Criteria",
    "EndorsementCredential",
    "EndorsementSubject",
    "Evidence",
    "IdentityObject",
    "Image",
    "Profile",
    "Related",
    "Result",
    "ResultDescription",
    "to_json",
]

#: BCP 47 subset the OB JSON Schema accepts for ``inLanguage`` (e.g. ``fr``, ``en-CA``).
LANGUAGE_PATTERN: Final = r"^[a-z]{2,4}(-[A-Z][a-z]{3})?(-([A-Z]{2}|[0-9]{3}))?$"
#: Achievement types of OB 3.0 (``ext:`` prefixed values are allowed too).
ACHIEVEMENT_TYPES: Final = frozenset(
    {
        "Achievement", "ApprenticeshipCertificate", "Assessment", "Assignment",
        "AssociateDegree", "Award", "Badge", "BachelorDegree", "Certificate",
        "CertificateOfCompletion", "Certification", "CommunityService", "Competency", "Course",
        "CoCurricular", "Degree", "Diploma", "DoctoralDegree", "Fieldwork",
        "GeneralEducationDevelopment", "JourneymanCertificate", "LearningProgram", "License",
        "Membership", "ProfessionalDoctorate", "QualityAssuranceCredential", "MasterCertificate",
        "MasterDegree", "MicroCredential", "ResearchDoctorate", "SecondarySchoolDiploma",
    }
)  # fmt: skip
ALIGNMENT_TARGET_TYPES: Final = frozenset(
    {"ceasn:Competency", "ceterms:Credential", "CFItem", "CFRubric", "CFRubricCriterion",
     "CFRubricCriterionLevel", "CTDL"}
)  # fmt: skip
RESULT_TYPES: Final = frozenset(
    {"GradePointAverage", "LetterGrade", "Percent", "PerformanceLevel", "PredictedScore",
     "RawScore", "Result", "RubricCriterion", "RubricCriterionLevel", "RubricScore",
     "ScaledScore", "Status"}
)  # fmt: skip
RESULT_STATUSES: Final = frozenset(
    {"Completed", "Enrolled", "Failed", "InProgress", "OnHold", "Provisional", "Withdrew"}
)
IDENTITY_TYPES: Final = frozenset(
    {"name", "sourcedId", "systemId", "productId", "userName", "accountId", "emailAddress",
     "nationalIdentityNumber", "isbn", "issn", "lisSourcedId", "oneRosterSourcedId",
     "sisSourcedId", "ltiContextId", "ltiDeploymentId", "ltiToolId", "ltiPlatformId",
     "ltiUserId", "identifier"}
)  # fmt: skip
_EXT: Final = re.compile(r"^ext:[A-Za-z0-9.\-_]+$")
_URI: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:\S+$")


def is_uri(value: str) -> bool:
    """True for an absolute URI (scheme + non-empty rest, no spaces): URLs, DIDs, URNs."""
    return bool(_URI.match(value))


def _enum_or_ext(value: str, allowed: frozenset[str], what: str) -> str:
    if value not in allowed and not _EXT.match(value):
        raise ValueError(f"{value!r} is not an OB 3.0 {what} (nor an 'ext:' extension value)")
    return value


def _uri(value: str) -> str:
    if not is_uri(value):
        raise ValueError(f"{value!r} is not an absolute URI")
    return value


class _OB(BaseModel):
    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        populate_by_name=True,
        alias_generator=to_camel,
        str_strip_whitespace=True,
    )


def to_json(model: BaseModel) -> dict[str, Any]:
    """Dump an OB model to its JSON form (camelCase, ``None`` fields omitted)."""
    return model.model_dump(mode="json", by_alias=True, exclude_none=True)


class Image(_OB):
    """An image (URL or ``data:`` URI) with an optional caption (alt text)."""

    id: str
    type: Literal["Image"] = "Image"
    caption: str | None = None

    _check_id = field_validator("id")(_uri)


class Alignment(_OB):
    """A link to a node in an external framework: a competency, a level, a standard."""

    type: list[str] = Field(default_factory=lambda: ["Alignment"])
    target_name: str = Field(min_length=1)
    target_url: str
    target_description: str | None = None
    target_framework: str | None = None
    target_code: str | None = None
    target_type: str | None = None

    _check_url = field_validator("target_url")(_uri)

    @field_validator("target_type")
    @classmethod
    def _check_target_type(cls, value: str | None) -> str | None:
        return None if value is None else _enum_or_ext(value, ALIGNMENT_TARGET_TYPES, "targetType")


class Criteria(_OB):
    """How the achievement is earned: a narrative and/or a page describing it."""

    id: str | None = None
    narrative: str | None = None


class ResultDescription(_OB):
    """An assessment (what result is recorded and what counts as success).

    ``assessment_method`` is a Sceau extension (``project``, ``exam``, ``portfolio``, ...).
    """

    id: str
    type: list[str] = Field(default_factory=lambda: ["ResultDescription"])
    name: str = Field(min_length=1)
    result_type: str
    allowed_value: list[str] | None = None
    required_value: str | None = None
    required_level: str | None = None
    value_min: str | None = None
    value_max: str | None = None
    alignment: list[Alignment] | None = None
    assessment_method: str | None = None

    _check_id = field_validator("id")(_uri)

    @field_validator("result_type")
    @classmethod
    def _check_result_type(cls, value: str) -> str:
        return _enum_or_ext(value, RESULT_TYPES, "resultType")


class Result(_OB):
    """A result the learner obtained, pointing at the ResultDescription it answers."""

    type: list[str] = Field(default_factory=lambda: ["Result"])
    result_description: str | None = None
    value: str | None = None
    status: str | None = None
    achieved_level: str | None = None
    alignment: list[Alignment] | None = None

    @field_validator("status")
    @classmethod
    def _check_status(cls, value: str | None) -> str | None:
        if value is not None and value not in RESULT_STATUSES:
            raise ValueError(f"{value!r} is not an OB 3.0 result status")
        return value


class Profile(_OB):
    """An issuer, creator or quality-assurance body. ``id`` is a DID or URL."""

    id: str
    type: list[str] = Field(default_factory=lambda: ["Profile"])
    name: str | None = None
    url: str | None = None
    email: str | None = None
    phone: str | None = None
    description: str | None = None
    image: Image | None = None
    official: str | None = None
    parent_org: Profile | None = None

    _check_id = field_validator("id")(_uri)


class Related(_OB):
    """The same achievement in another language (or another version).

    Besides OB's ``id``/``inLanguage``/``version``, Sceau's related entries are also typed
    ``Achievement`` and carry the translated texts, so a displayer can show the other language
    from the credential alone (docs/credentials.md, "Both languages").
    """

    id: str
    type: list[str] = Field(default_factory=lambda: ["Related", "Achievement"])
    in_language: str | None = Field(default=None, pattern=LANGUAGE_PATTERN)
    version: str | None = None
    name: str | None = None
    description: str | None = None
    criteria: Criteria | None = None
    alignment: list[Alignment] | None = None
    result_description: list[ResultDescription] | None = None
    image: Image | None = None
    field_of_study: str | None = None

    _check_id = field_validator("id")(_uri)


class Achievement(_OB):
    """What was achieved (OB 3.0 ``Achievement``), in one language, plus its translations."""

    id: str
    type: list[str] = Field(default_factory=lambda: ["Achievement"])
    name: str = Field(min_length=1)
    description: str = Field(min_length=1)
    criteria: Criteria
    achievement_type: str | None = None
    alignment: list[Alignment] | None = None
    credits_available: float | None = Field(default=None, ge=0)
    field_of_study: str | None = None
    human_code: str | None = None
    image: Image | None = None
    in_language: str | None = Field(default=None, pattern=LANGUAGE_PATTERN)
    related: list[Related] | None = None
    result_description: list[ResultDescription] | None = None
    specialization: str | None = None
    tag: list[str] | None = None
    version: str | None = None
    creator: Profile | None = None
    endorsement: list[dict[str, Any]] | None = None
    # Sceau extensions (inline JSON-LD context, see constants.EXTENSION_CONTEXT)
    time_required: str | None = Field(default=None, pattern=r"^PT(\d+H)?(\d+M)?$")
    course_mode: str | None = None
    pacing: str | None = None
    applied_learning: bool | None = None
    instruction_language: list[str] | None = None
    recognized_by: list[Profile] | None = None

    _check_id = field_validator("id")(_uri)

    @field_validator("achievement_type")
    @classmethod
    def _check_achievement_type(cls, value: str | None) -> str | None:
        return None if value is None else _enum_or_ext(value, ACHIEVEMENT_TYPES, "achievementType")


class IdentityObject(_OB):
    """A recipient identifier; Sceau writes the learner's email salted and hashed."""

    type: Literal["IdentityObject"] = "IdentityObject"
    hashed: bool
    identity_hash: str = Field(min_length=1)
    identity_type: str
    salt: str | None = None

    @field_validator("identity_type")
    @classmethod
    def _check_identity_type(cls, value: str) -> str:
        return _enum_or_ext(value, IDENTITY_TYPES, "identityType")


class AchievementSubject(_OB):
    """The learner and what they achieved. Needs ``id`` or at least one ``identifier``."""

    id: str | None = None
    type: list[str] = Field(default_factory=lambda: ["AchievementSubject"])
    name: str | None = None
    identifier: list[IdentityObject] | None = None
    achievement: Achievement
    result: list[Result] | None = None
    credits_earned: float | None = Field(default=None, ge=0)
    activity_start_date: str | None = None
    activity_end_date: str | None = None
    narrative: str | None = None
    role: str | None = None
    term: str | None = None
    license_number: str | None = None

    @field_validator("identifier")
    @classmethod
    def _check_identifier(cls, value: list[IdentityObject] | None) -> list[IdentityObject] | None:
        if value is not None and not value:
            raise ValueError("identifier, when given, holds at least one IdentityObject")
        return value


class Evidence(_OB):
    """Evidence of the learner's work (a capstone, a repository), shown with their consent."""

    id: str | None = None
    type: list[str] = Field(default_factory=lambda: ["Evidence"])
    name: str | None = None
    description: str | None = None
    narrative: str | None = None
    genre: str | None = None
    audience: str | None = None


class EndorsementSubject(_OB):
    """What an endorser endorses (an achievement, a profile, a credential) and their comment."""

    id: str
    type: list[str] = Field(default_factory=lambda: ["EndorsementSubject"])
    endorsement_comment: str | None = None

    _check_id = field_validator("id")(_uri)


class EndorsementCredential(_OB):
    """An unsigned OB 3.0 EndorsementCredential (VCDM 2.0), signed like any other credential."""

    context: list[str | dict[str, Any]] = Field(alias="@context")
    id: str
    type: list[str] = Field(
        default_factory=lambda: ["VerifiableCredential", "EndorsementCredential"]
    )
    name: str = Field(min_length=1)
    description: str | None = None
    issuer: Profile
    valid_from: str
    valid_until: str | None = None
    credential_subject: EndorsementSubject

    _check_id = field_validator("id")(_uri)

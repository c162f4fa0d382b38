"""What an issuer authors: bilingual achievement versions, recipients, issuer profiles.

These are the input of :func:`sceau_credentials.ob3.builder.build_credential`.
Every human-readable text is a language map (``{"fr": "...", "en": "..."}``): achievements are
authored in French and English, and the builder decides how a credential carries both (one
language in the OB fields, the others in ``related`` entries). A version is immutable: a credential
pins the version it was earned under, and an edit makes a new version.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Any, Final, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sceau_credentials.ob3.models import (
    ACHIEVEMENT_TYPES,
    LANGUAGE_PATTERN,
    RESULT_TYPES,
    _enum_or_ext,
    is_uri,
)

__all__ = [
    "AchievementVersion",
    "Assessment",
    "AssessmentMethod",
    "Competency",
    "DeliveryMode",
    "IssuerProfile",
    "LangMap",
    "Level",
    "Pacing",
    "QualityAssurance",
    "Recipient",
    "SkillType",
]

#: A text in several languages, keyed by BCP 47 tag (``fr``, ``en``, ``en-CA``...).
LangMap = dict[str, str]
_LANG: Final = re.compile(LANGUAGE_PATTERN)


def _check_langmap(value: LangMap | None) -> LangMap | None:
    if value is None:
        return None
    if not value:
        raise ValueError("a language map needs at least one language")
    cleaned: LangMap = {}
    for lang, text in value.items():
        if not _LANG.match(lang):
            raise ValueError(f"{lang!r} is not a language tag such as 'fr' or 'en-CA'")
        if not isinstance(text, str) or not text.strip():
            raise ValueError(f"the {lang!r} text is empty")
        cleaned[lang] = text.strip()
    return cleaned


def _check_uri(value: str | None) -> str | None:
    if value is not None and not is_uri(value):
        raise ValueError(f"{value!r} is not an absolute URI")
    return value


class _Input(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class SkillType(StrEnum):
    """Kind of competency (field requirement A.3)."""

    TECHNICAL = "technical"
    NON_TECHNICAL = "non-technical"


class AssessmentMethod(StrEnum):
    """How learning is assessed (field requirement A.5)."""

    PROJECT = "project"
    PRACTICAL = "practical"
    QUIZ = "quiz"
    DISCUSSION = "discussion"
    EXAM = "exam"
    PORTFOLIO = "portfolio"
    PRIOR_LEARNING = "prior-learning"
    PARTICIPATION = "participation"


class DeliveryMode(StrEnum):
    """Delivery mode; written as schema.org ``courseMode`` (online / blended / onsite)."""

    ONLINE = "online"
    HYBRID = "hybrid"
    IN_PERSON = "in-person"


class Pacing(StrEnum):
    """Pacing of the learning (field requirement A.9)."""

    SELF_PACED = "self-paced"
    SYNCHRONOUS = "synchronous"
    COHORT = "cohort"


class Competency(_Input):
    """A competency the achievement certifies, aligned to a framework item."""

    name: LangMap
    description: LangMap | None = None
    url: str
    framework: LangMap | None = None
    code: str | None = None
    skill_type: SkillType | None = None

    _maps = field_validator("name", "description", "framework")(_check_langmap)
    _url = field_validator("url")(_check_uri)


class Level(_Input):
    """A level with a link to its human-readable definition (field requirement A.8)."""

    name: LangMap
    definition_url: str
    scheme: LangMap | None = None
    code: str | None = None

    _maps = field_validator("name", "scheme")(_check_langmap)
    _url = field_validator("definition_url")(_check_uri)


class Assessment(_Input):
    """One assessment of the achievement and the kind of result it records."""

    method: AssessmentMethod
    name: LangMap
    result_type: str = "Status"
    allowed_values: list[str] | None = None
    required_value: str | None = None

    _maps = field_validator("name")(_check_langmap)

    @field_validator("result_type")
    @classmethod
    def _check_result_type(cls, value: str) -> str:
        return _enum_or_ext(value, RESULT_TYPES, "resultType")


class QualityAssurance(_Input):
    """The body that approved or reviewed the achievement (ministry, QA board, association)."""

    id: str
    name: LangMap
    url: str | None = None

    _maps = field_validator("name")(_check_langmap)
    _uris = field_validator("id", "url")(_check_uri)


class AchievementVersion(_Input):
    """One immutable version of an achievement, authored in one or more languages.

    ``name`` decides which languages the version is authored in; every other language map must
    cover exactly those languages, so no credential is ever half-translated.
    """

    id: str
    version: str = Field(min_length=1)
    achievement_type: str = "MicroCredential"
    default_language: str
    name: LangMap
    description: LangMap
    criteria: LangMap
    criteria_url: str | None = None
    language_ids: dict[str, str] = Field(default_factory=dict)
    image_url: str | None = None
    image_caption: LangMap | None = None
    competencies: list[Competency] = Field(default_factory=list)
    level: Level | None = None
    hours: float | None = Field(default=None, gt=0, le=100_000)
    delivery_mode: DeliveryMode | None = None
    pacing: Pacing | None = None
    applied_learning: bool | None = None
    assessments: list[Assessment] = Field(default_factory=list)
    credits: float | None = Field(default=None, ge=0)
    field_of_study: LangMap | None = None
    instruction_languages: list[str] = Field(default_factory=list)
    quality_assurance: list[QualityAssurance] = Field(default_factory=list)
    tags: list[str] = Field(default_factory=list)
    human_code: str | None = None
    endorsements: list[dict[str, Any]] = Field(default_factory=list)

    _maps = field_validator("name", "description", "criteria", "image_caption", "field_of_study")(
        _check_langmap
    )
    _uris = field_validator("id", "criteria_url", "image_url")(_check_uri)

    @field_validator("achievement_type")
    @classmethod
    def _check_type(cls, value: str) -> str:
        return _enum_or_ext(value, ACHIEVEMENT_TYPES, "achievementType")

    @field_validator("instruction_languages")
    @classmethod
    def _check_instruction_languages(cls, value: list[str]) -> list[str]:
        for lang in value:
            if not _LANG.match(lang):
                raise ValueError(f"{lang!r} is not a language tag")
        return value

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this version is authored in, default language first."""
        others = sorted(lang for lang in self.name if lang != self.default_language)
        return (self.default_language, *others)

    @model_validator(mode="after")
    def _check_translations(self) -> Self:
        languages = set(self.name)
        if self.default_language not in languages:
            raise ValueError(f"default_language {self.default_language!r} has no name")
        maps: list[tuple[str, LangMap | None]] = [
            ("description", self.description),
            ("criteria", self.criteria),
            ("image_caption", self.image_caption),
            ("field_of_study", self.field_of_study),
            ("level.name", self.level.name if self.level else None),
            ("level.scheme", self.level.scheme if self.level else None),
        ]
        for i, competency in enumerate(self.competencies):
            maps += [
                (f"competencies[{i}].name", competency.name),
                (f"competencies[{i}].description", competency.description),
                (f"competencies[{i}].framework", competency.framework),
            ]
        maps += [(f"assessments[{i}].name", a.name) for i, a in enumerate(self.assessments)]
        maps += [
            (f"quality_assurance[{i}].name", q.name) for i, q in enumerate(self.quality_assurance)
        ]
        problems = [
            f"{path} covers {sorted(value)} but the achievement is authored in {sorted(languages)}"
            for path, value in maps
            if value is not None and set(value) != languages
        ]
        for lang, url in self.language_ids.items():
            if lang not in languages or not is_uri(url):
                problems.append(
                    f"language_ids[{lang!r}] must be an absolute URI of an authored language"
                )
        if problems:
            raise ValueError("; ".join(problems))
        return self


class Recipient(_Input):
    """Who receives the credential: an email (hashed into the credential) and/or a DID."""

    email: str | None = None
    did: str | None = None
    name: str | None = None

    _did = field_validator("did")(_check_uri)

    @model_validator(mode="after")
    def _check_identity(self) -> Self:
        if not self.email and not self.did:
            raise ValueError("a recipient needs an email or a DID")
        if self.email is not None and "@" not in self.email:
            raise ValueError("email is not an email address")
        return self


class IssuerProfile(_Input):
    """The issuing institution as it appears in its credentials (names per language)."""

    id: str
    name: LangMap
    url: str | None = None
    email: str | None = None
    image_url: str | None = None
    description: LangMap | None = None
    official: str | None = None

    _maps = field_validator("name", "description")(_check_langmap)
    _uris = field_validator("id", "url", "image_url")(_check_uri)

    def name_in(self, language: str) -> str:
        """The name in ``language``, else in any authored language (names are never omitted)."""
        return self.name.get(language) or next(iter(self.name.values()))

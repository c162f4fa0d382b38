"""What an institution sends to define an achievement (a draft may be incomplete)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from sceau_credentials.ob3.authoring import (
    Assessment,
    Competency,
    DeliveryMode,
    LangMap,
    Level,
    Pacing,
    QualityAssurance,
)
from sceau_credentials.ob3.models import ACHIEVEMENT_TYPES, LANGUAGE_PATTERN, is_uri


class CredentialProfile(StrEnum):
    """Credential formats the engine signs (``ob3-v2`` unless an achievement asks otherwise)."""

    OB3_V2 = "ob3-v2"
    OB3_V1 = "ob3-v1"
    JWT = "jwt"


class CreditStatus(StrEnum):
    """Whether the achievement carries academic credit (field requirement A.13)."""

    CREDIT = "credit"
    NON_CREDIT = "non-credit"


_EXAMPLE: dict[str, Any] = {
    "achievement_type": "MicroCredential",
    "default_language": "fr",
    "name": {"fr": "Enseigner avec l'IA", "en": "Teaching with AI"},
    "description": {
        "fr": "Concevoir des activités d'apprentissage qui intègrent l'IA générative.",
        "en": "Design learning activities that integrate generative AI.",
    },
    "criteria": {
        "fr": "Réussir le projet final évalué selon la grille.",
        "en": "Pass the final project assessed against the rubric.",
    },
    "competencies": [
        {
            "name": {"fr": "Intégrer l'IA en classe", "en": "Integrate AI in class"},
            "url": "https://example.edu/frameworks/digital/ai-1",
            "framework": {"fr": "Cadre numérique", "en": "Digital framework"},
            "code": "AI-1",
            "skill_type": "technical",
        }
    ],
    "hours": 15,
    "modules": 3,
    "delivery_mode": "online",
    "pacing": "cohort",
    "assessments": [
        {
            "method": "project",
            "name": {"fr": "Projet final", "en": "Final project"},
            "result_type": "Status",
        }
    ],
    "instruction_languages": ["fr"],
    "credit_status": "non-credit",
    "quality_assurance": [
        {
            "id": "https://example.edu/qa",
            "name": {"fr": "Comité qualité", "en": "Quality board"},
        }
    ],
}


class AchievementInput(BaseModel):
    """An achievement definition; publishing checks completeness and both languages."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra={"examples": [_EXAMPLE]}
    )

    achievement_type: str = Field(
        default="MicroCredential", description="OB 3.0 achievementType or an ext: value."
    )
    default_language: str = Field(default="fr", pattern=LANGUAGE_PATTERN, max_length=20)
    name: LangMap = Field(description="Title per language, e.g. {'fr': …, 'en': …}.")
    description: LangMap | None = None
    criteria: LangMap | None = None
    criteria_url: str | None = Field(default=None, max_length=2000)
    image_url: str | None = Field(default=None, max_length=100_000)
    image_caption: LangMap | None = Field(default=None, description="Image alt text.")
    competencies: list[Competency] = Field(default_factory=list, max_length=200)
    level: Level | None = None
    hours: float | None = Field(default=None, gt=0, le=100_000)
    weeks: int | None = Field(default=None, ge=1, le=520)
    hours_per_week: float | None = Field(default=None, gt=0, le=168)
    modules: int | None = Field(default=None, ge=1, le=1000)
    sessions: int | None = Field(default=None, ge=1, le=10_000)
    delivery_mode: DeliveryMode | None = None
    pacing: Pacing | None = None
    applied_learning: bool | None = None
    assessments: list[Assessment] = Field(default_factory=list, max_length=50)
    credit_status: CreditStatus | None = None
    credits: float | None = Field(default=None, ge=0, le=10_000)
    transcriptable: bool | None = None
    field_of_study: LangMap | None = None
    instruction_languages: list[str] = Field(default_factory=list, max_length=20)
    quality_assurance: list[QualityAssurance] = Field(default_factory=list, max_length=20)
    tags: list[str] = Field(default_factory=list, max_length=50)
    human_code: str | None = Field(default=None, max_length=100)
    validity_months: int | None = Field(
        default=None, ge=1, le=1200, description="Credentials expire this long after issue."
    )
    profile: CredentialProfile = CredentialProfile.OB3_V2
    survey_url: str | None = Field(
        default=None,
        max_length=2000,
        description="Follow-up survey the notifier e-mails to each learner some days after "
        "issuance (R75); never written into the credential.",
    )
    survey_after_days: int | None = Field(
        default=None,
        ge=1,
        le=730,
        description="Days after issuance for the survey e-mail (the notifier's default, 30, "
        "when omitted).",
    )

    @field_validator("achievement_type")
    @classmethod
    def _check_type(cls, value: str) -> str:
        if value not in ACHIEVEMENT_TYPES and not value.startswith("ext:"):
            raise ValueError(f"{value!r} is not an OB 3.0 achievementType (nor an ext: value)")
        return value

    @field_validator("criteria_url", "image_url", "survey_url")
    @classmethod
    def _check_uri(cls, value: str | None) -> str | None:
        if value is not None and not is_uri(value):
            raise ValueError("must be an absolute URI")
        return value

    @field_validator("name", "description", "criteria", "image_caption", "field_of_study")
    @classmethod
    def _check_map(cls, value: LangMap | None) -> LangMap | None:
        if value is None:
            return None
        if len(value) > 10:
            raise ValueError("at most 10 languages")
        for lang, text in value.items():
            if len(lang) > 20 or len(text) > 20_000:
                raise ValueError("language tag or text too long")
        return value


class AchievementVersionOut(BaseModel):
    """One version of an achievement."""

    achievement_id: str
    version: int
    state: Literal["draft", "published"]
    definition: dict[str, Any]
    created_at: datetime
    published_at: datetime | None = None


class AchievementOut(BaseModel):
    """An achievement: its latest version and which version issuing uses."""

    achievement_id: str
    latest_version: int
    published_version: int | None
    latest: AchievementVersionOut

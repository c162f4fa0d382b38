"""Events about institutions and their accreditation (produced by the registry)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import ClassVar

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from sceau_shared.events.envelope import Event


class DidMethod(StrEnum):
    """How the issuer should identify an institution."""

    KEY = "key"
    WEB = "web"
    HOSTED_WEB = "hosted-web"


class InstitutionStatus(StrEnum):
    """Lifecycle of a registered institution."""

    PENDING = "pending"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    FORMER = "former"


class BilingualText(BaseModel):
    """A text in French and English (either may be empty for a unilingual institution)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    fr: str = ""
    en: str = ""

    @classmethod
    def of(cls, texts: Mapping[str, object]) -> BilingualText:
        """French and English from a language map.

        A text authored in neither (a foreign provider's ``es`` only) fills both, so an
        e-mail or page in French or English still names the thing rather than showing a blank.
        """
        fr, en = texts.get("fr"), texts.get("en")
        if not fr and not en:
            other = next((v for v in texts.values() if isinstance(v, str) and v), "")
            return cls(fr=other, en=other)
        return cls(fr=str(fr or ""), en=str(en or ""))


class InstitutionRegisteredV1(Event):
    """The registry registered an institution; the issuer makes it a tenant and creates its key."""

    TOPIC: ClassVar[str] = "registry.institution-registered.v1"
    KEY_FIELD: ClassVar[str] = "institution_id"

    institution_id: str
    legal_name: BilingualText
    category: str
    jurisdiction: str
    domain: str | None = None
    did_method: DidMethod = DidMethod.KEY
    hosted_did: str | None = Field(
        default=None, description="did:web under the registry host, for DidMethod.HOSTED_WEB."
    )
    languages: list[str] = Field(default_factory=lambda: ["fr", "en"])
    contact_email: str | None = Field(
        default=None, description="Institution's public contact (not a learner's)."
    )


class AccreditationScope(BaseModel):
    """Achievement types (and optionally levels) an institution may issue, and when."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    achievement_types: list[str]
    levels: list[str] = Field(default_factory=list)
    role: str = "issuer"
    valid_from: AwareDatetime
    valid_until: AwareDatetime | None = None


class AccreditationChangedV1(Event):
    """An institution's status or accreditation scope changed; verifiers drop cached trust."""

    TOPIC: ClassVar[str] = "registry.accreditation-changed.v1"
    KEY_FIELD: ClassVar[str] = "institution_id"

    institution_id: str
    dids: list[str] = Field(default_factory=list)
    status: InstitutionStatus
    scopes: list[AccreditationScope] = Field(default_factory=list)
    effective_at: AwareDatetime
    reason: str = ""

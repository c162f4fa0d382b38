"""Request and answer shapes of the endorsement endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["EndorsementList", "EndorsementRequest", "EndorsementView"]

EndorsementState = Literal["pending", "accepted", "rejected"]


class EndorsementRequest(BaseModel):
    """What an endorsing body asks the issuer to sign in its name.

    ``comment`` is the endorser's statement per language (``fr``, ``en``; at least one, each at
    most 2,000 characters, Markdown as OB 3.0 allows). ``version`` pins the achievement version
    endorsed (its newest published version by default): versions are immutable, so an
    endorsement stays true of what it endorsed.
    """

    model_config = ConfigDict(extra="forbid")

    achievement_id: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")
    version: int | None = Field(default=None, ge=1, le=1_000_000)
    comment: dict[str, str] = Field(min_length=1, max_length=2)

    @field_validator("comment")
    @classmethod
    def _check_comment(cls, value: dict[str, str]) -> dict[str, str]:
        for lang, text in value.items():
            if lang not in ("fr", "en"):
                raise ValueError(f"comment languages are 'fr' and 'en', not {lang!r}")
            if not text.strip():
                raise ValueError(f"the {lang!r} comment is empty")
            if len(text) > 2000:
                raise ValueError(f"the {lang!r} comment is longer than 2,000 characters")
        return value


class EndorsementView(BaseModel):
    """One endorsement as its endorser and the endorsed institution see it."""

    endorsement_id: str
    state: EndorsementState
    endorser_id: str
    endorser_did: str
    institution_id: str = Field(description="The institution whose achievement is endorsed.")
    achievement_id: str
    achievement_version: int
    endorsed: str = Field(description="The endorsed Achievement.id (a URL of that version).")
    comment: dict[str, str]
    created_at: datetime
    decided_at: datetime | None = None
    document: dict[str, Any] = Field(description="The signed EndorsementCredential.")


class EndorsementList(BaseModel):
    """Endorsements, newest first."""

    items: list[EndorsementView]

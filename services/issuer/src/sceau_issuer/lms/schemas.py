"""The LMS hook's requests and answers (management API and deliveries)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Outcome = Literal["issued", "already-issued", "already-held", "ignored"]


class SecretCreated(BaseModel):
    """A new hook secret, shown once; the replaced one holds until ``previous_valid_until``."""

    secret: str = Field(description="whsec_<base64>: the Standard Webhooks signing secret.")
    created_at: datetime
    previous_valid_until: datetime | None = Field(
        default=None,
        description="Deliveries signed with the secret this one replaces are accepted until then.",
    )
    hook_urls: dict[str, str] = Field(description="The hook's URL for each event shape.")


class MappingInput(BaseModel):
    """The achievement a completed LMS course (or Brightspace award) is issued as."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"achievement_id": "3f1c6c0e8b9d4e3f"}]}
    )

    achievement_id: str = Field(min_length=1, max_length=64)
    language: Literal["fr", "en"] | None = Field(
        default=None,
        description="The learner's language when the event gives none (default: the "
        "achievement's default language when it is fr or en, else fr).",
    )


class MappingView(BaseModel):
    """One course → achievement mapping."""

    lms: str
    course_id: str
    achievement_id: str
    language: Literal["fr", "en"] | None = None
    updated_at: datetime


class MappingList(BaseModel):
    """The institution's mappings and whether its hook has a secret."""

    has_secret: bool
    items: list[MappingView]


class DeliveryAnswer(BaseModel):
    """What the hook did with one delivery (kept, and given again to its replays)."""

    outcome: Outcome
    webhook_id: str
    lms: str
    replay: bool = Field(
        default=False, description="True when this webhook-id was delivered before."
    )
    course_id: str | None = None
    credential_id: str | None = None
    achievement_id: str | None = None
    achievement_version: int | None = None
    completed_at: datetime | None = None
    reason: str | None = Field(default=None, description="Why an event was ignored.")

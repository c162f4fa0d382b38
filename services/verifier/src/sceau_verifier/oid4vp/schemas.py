"""The JSON shapes of the OpenID4VP routes: the employer's request and what it reads back."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sceau_verifier.schemas import VerifyResponse

__all__ = [
    "Oid4vpCheck",
    "Oid4vpCreated",
    "Oid4vpRequestIn",
    "Oid4vpState",
    "Oid4vpStatus",
    "WantedOut",
]

_URI: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"]+$")


class Oid4vpRequestIn(BaseModel):
    """What the employer asks a wallet for: an achievement, an institution, or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    achievement_id: str | None = Field(
        default=None,
        max_length=512,
        description="The achievement's id (credentialSubject.achievement.id), an absolute URI.",
    )
    issuer: str | None = Field(
        default=None, max_length=512, description="The issuing institution's DID."
    )

    @field_validator("achievement_id", "issuer", mode="before")
    @classmethod
    def _blank(cls, value: object) -> object:
        if isinstance(value, str):
            value = value.strip()
            return value or None
        return value

    @field_validator("achievement_id")
    @classmethod
    def _uri(cls, value: str | None) -> str | None:
        if value is not None and not _URI.match(value):
            raise ValueError("must be an absolute URI")
        return value

    @field_validator("issuer")
    @classmethod
    def _did(cls, value: str | None) -> str | None:
        if value is not None and not (value.startswith("did:") and _URI.match(value)):
            raise ValueError("must be a DID (did:…)")
        return value

    @model_validator(mode="after")
    def _something(self) -> Self:
        if self.achievement_id is None and self.issuer is None:
            raise ValueError("give achievement_id or issuer (or both)")
        return self


class WantedOut(BaseModel):
    """What was asked for."""

    model_config = ConfigDict(frozen=True)

    achievement_id: str | None
    issuer: str | None


class Oid4vpCreated(BaseModel):
    """A new presentation request: show ``deep_link`` (as a QR code too); keep ``read_token``."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    read_token: str = Field(
        description="Secret: reads the answer (Authorization: Bearer). Shown once, never stored."
    )
    client_id: str
    request_uri: str
    deep_link: str = Field(description="openid4vp://… link; the QR code's content.")
    status_url: str
    expires_at: datetime


class Oid4vpCheck(BaseModel):
    """One OpenID4VP rule the accepted presentation met, explained in both languages."""

    model_config = ConfigDict(frozen=True)

    name: Literal["nonce", "audience", "holder_binding", "query"]
    status: Literal["passed"] = "passed"
    reason: str
    reason_fr: str
    reason_en: str


class Oid4vpStatus(BaseModel):
    """Where a request stands; once answered, the usual explained answer of each presentation."""

    model_config = ConfigDict(frozen=True)

    request_id: str
    status: Literal["pending", "answered", "declined", "expired"]
    asked: WantedOut
    expires_at: datetime
    answered_at: datetime | None = None
    holder: str | None = Field(default=None, description="The DID that signed the presentation.")
    verified: bool | None = Field(
        default=None, description="Every presentation (and its credentials) verified, now."
    )
    checks: list[Oid4vpCheck] = Field(default_factory=list)
    presentations: list[VerifyResponse] = Field(
        default_factory=list,
        description="The /v1/verify answer of each presentation, verified again at reading.",
    )
    wallet_error: str | None = Field(
        default=None, description="The wallet's error code when it declined."
    )


class Oid4vpState(BaseModel):
    """What the employer's page polls: the status alone."""

    model_config = ConfigDict(frozen=True)

    status: Literal["pending", "answered", "declined", "expired"]

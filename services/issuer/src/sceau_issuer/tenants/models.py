"""Tenant and key records as stored in the ``institutions`` collection."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from sceau_shared.events import BilingualText


class KeyState(StrEnum):
    """A key signs (active), only verifies old credentials (rotated), or is withdrawn (revoked)."""

    ACTIVE = "active"
    ROTATED = "rotated"
    REVOKED = "revoked"


class KeyRecord(BaseModel):
    """One signing key of an institution. ``secret`` is the AES-256-GCM encrypted seed."""

    model_config = ConfigDict(extra="ignore")

    key_id: str
    version: int = Field(ge=1)
    did: str
    verification_method: str
    public_key_multibase: str
    secret: dict[str, Any] = Field(repr=False)
    state: KeyState
    active_from: datetime
    rotated_at: datetime | None = None
    revoked_as_of: datetime | None = None

    def public_view(self) -> dict[str, Any]:
        """Return everything but the secret (for API answers)."""
        return self.model_dump(mode="json", exclude={"secret"})


class InstitutionSettings(BaseModel):
    """What an institution chose about the credentials it issues (``/v1/institution/settings``).

    ``suspension`` is off by default: a credential then carries one status entry (revocation),
    which is what 1EdTech's Open Badges 3.0 JSON Schema allows. An institution that turns it on
    gets, on the ``ob3-v2`` credentials signed from then on, a second (suspension) entry in a
    ``credentialStatus`` array: those can be suspended and reinstated, and fail the official
    schema's single-entry rule (docs/credentials.md, "Status entries").
    """

    model_config = ConfigDict(extra="ignore")

    suspension: bool = False
    updated_at: datetime | None = None


class Tenant(BaseModel):
    """An institution that may issue credentials."""

    model_config = ConfigDict(extra="ignore")

    institution_id: str = Field(alias="_id")
    name: BilingualText
    languages: list[str]
    category: str = ""
    domain: str | None = None
    did_method: str
    contact_email: str | None = None
    status: str = "active"
    keys: list[KeyRecord]
    active_key_id: str
    created_at: datetime
    settings: InstitutionSettings = Field(default_factory=InstitutionSettings)

    @property
    def bilingual(self) -> bool:
        """Whether achievements must carry both French and English text."""
        return {"fr", "en"} <= set(self.languages)

    @property
    def active_key(self) -> KeyRecord:
        """The key that signs new credentials."""
        for key in self.keys:
            if key.key_id == self.active_key_id:
                return key
        raise LookupError(f"institution {self.institution_id} has no active key")

    @property
    def did(self) -> str:
        """The DID new credentials are issued under."""
        return self.active_key.did

    def key(self, key_id: str) -> KeyRecord:
        """Return one of the institution's keys by id."""
        for key in self.keys:
            if key.key_id == key_id:
                return key
        raise LookupError(key_id)

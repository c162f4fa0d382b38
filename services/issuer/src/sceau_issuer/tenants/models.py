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


class KeyType(StrEnum):
    """What a key is: Ed25519 signs the JSON-LD profiles (and EdDSA JWTs), P-256 signs ES256 JWTs.

    A P-256 key's ``key_id`` is ``p<version>`` and its method ``#p256-<version>``; an Ed25519
    key's ``k<version>`` and ``#key-<version>``. Each type numbers its versions on its own.
    """

    ED25519 = "Ed25519"
    P256 = "P-256"


class JwtAlgorithm(StrEnum):
    """How the institution's ``jwt`` credentials are signed (``InstitutionSettings``)."""

    ES256 = "ES256"
    EDDSA = "EdDSA"


class KeyRecord(BaseModel):
    """One signing key of an institution. ``secret`` is the AES-256-GCM encrypted seed.

    For a P-256 key the encrypted 32 bytes are the private scalar (the same size as an Ed25519
    seed, encrypted the same way, bound to ``<institution>:<key_id>``).
    """

    model_config = ConfigDict(extra="ignore")

    key_id: str
    key_type: KeyType = KeyType.ED25519
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
    jwt_algorithm: JwtAlgorithm = JwtAlgorithm.ES256
    """``ES256`` (default, what 1EdTech certification accepts) or ``EdDSA`` (explicit choice).
    A did:key institution signs EdDSA whatever this says (docs/keys-and-dids.md)."""
    selective_disclosure: bool = False
    """Make an ``ecdsa-sd-2023`` base-proof copy of each ``ob3-v2`` credential (P-256 key needed:
    did:web), so shares that withhold fields serve a derived disclosure (issuing/selective.py)."""
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
    active_p256_key_id: str | None = None
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
    def active_p256_key(self) -> KeyRecord | None:
        """The P-256 key that signs ES256 JWTs now (None: a did:key institution, or not yet)."""
        for key in self.keys:
            if key.key_id == self.active_p256_key_id:
                return key
        return None

    @property
    def wants_p256_key(self) -> bool:
        """Whether the institution should have a P-256 key and has none (created on first use).

        did:web institutions (own domain or registry-hosted) publish it under their one DID; a
        did:key institution's DID *is* its Ed25519 key, and a P-256 did:key would be a second
        issuer identity, so it gets none (docs/keys-and-dids.md, "P-256 keys").
        """
        return self.active_p256_key_id is None and not self.did.startswith("did:key:")

    def jwt_key(self) -> KeyRecord:
        """The key that signs the institution's ``jwt`` credentials now (ES256 or EdDSA)."""
        p256 = self.active_p256_key
        if p256 is not None and self.settings.jwt_algorithm is JwtAlgorithm.ES256:
            return p256
        return self.active_key

    def makes_base_proofs(self, profile: str) -> bool:
        """Whether a credential of ``profile`` signed now also gets an ecdsa-sd-2023 base copy."""
        return (
            profile == "ob3-v2"
            and self.settings.selective_disclosure
            and self.active_p256_key is not None
        )

    def signing_record(self, profile: str) -> KeyRecord:
        """The key that signs a new credential in ``profile``."""
        return self.jwt_key() if profile == "jwt" else self.active_key

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

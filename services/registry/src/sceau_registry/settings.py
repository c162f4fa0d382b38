"""Settings of the registry service (environment prefix ``REGISTRY_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from sceau_shared.runtime import StoringServiceSettings
from sceau_shared.settings import HttpSettings, MongoSettings, decode_master_key

SERVICE_NAME = "sceau-registry"
ENV_PREFIX = "REGISTRY_"

MIN_OPERATOR_TOKEN_CHARS = 24


class RegistrySettings(StoringServiceSettings):
    """Settings of the registry, e.g. ``REGISTRY_MONGO__URI`` (nested fields use ``__``).

    ``operator_token`` and ``master_key`` have no default on purpose: a default operator token
    would let anyone who read the docs govern a careless deployment, and a default master key
    would make every deployment share the key that protects the registry's signing key.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    mongo: MongoSettings = MongoSettings(database="sceau_registry")
    http: HttpSettings = HttpSettings(port=8002, public_base_url="http://127.0.0.1:8002")

    operator_token: SecretStr = Field(
        description="Bearer token of the operator API (/v1/admin/...). At least 24 characters."
    )
    master_key: SecretStr = Field(
        description="Base64 of 32 random bytes; encrypts the registry's own signing key "
        "(AES-256-GCM) at rest. Never logged."
    )
    verifier_token: SecretStr | None = Field(
        default=None,
        description="Token the deployment's verifiers send (X-Sceau-Registry-Token) to draw from "
        "their own rate bucket instead of the public per-address one. At least 24 characters.",
    )
    verifier_rate_limit_per_minute: int = Field(
        default=60_000, ge=0, description="Requests per minute per verifier address (0: none)."
    )
    cache_ttl_s: float = Field(
        default=2.0,
        ge=0,
        description="How long a replica serves a status list or trust answer from memory before "
        "re-reading MongoDB (changes handled by this replica invalidate at once).",
    )
    cache_max_entries: int = Field(default=10_000, ge=1)
    status_list_default_max_age_s: int = Field(
        default=300, ge=0, description="Cache-Control max-age when a status list has no ttl."
    )
    trust_list_validity_s: int = Field(
        default=7 * 24 * 3600,
        gt=0,
        description="validUntil of the signed trust list; it is re-signed when half has elapsed.",
    )
    trust_list_poll_s: float = Field(
        default=5.0, gt=0, description="How often the trust list is checked for changes."
    )
    dcc_name_language: Literal["fr", "en"] = Field(
        default="en", description="Language of the single 'name' of the DCC registry export."
    )
    registry_name_fr: str = "Registre Sceau des établissements de confiance"
    registry_name_en: str = "Sceau trusted institution registry"
    outbox_poll_s: float = Field(default=0.5, gt=0)

    @field_validator("master_key")
    @classmethod
    def _check_master_key(cls, value: SecretStr) -> SecretStr:
        decode_master_key(value)
        return value

    @field_validator("operator_token")
    @classmethod
    def _check_token(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value().strip()) < MIN_OPERATOR_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_OPERATOR_TOKEN_CHARS} characters")
        return value

    @field_validator("verifier_token")
    @classmethod
    def _check_verifier_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_OPERATOR_TOKEN_CHARS:
            raise ValueError(f"must be at least {MIN_OPERATOR_TOKEN_CHARS} characters")
        return value

    @property
    def public_base_url(self) -> str:
        """The registry's public base URL without a trailing slash."""
        return self.http.public_base_url.rstrip("/")

"""Settings of the notifier service (environment prefix ``NOTIFIER_``)."""

from __future__ import annotations

import base64
import binascii
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from sceau_shared.runtime import StoringServiceSettings
from sceau_shared.settings import HttpSettings, MongoSettings

SERVICE_NAME = "sceau-notifier"
ENV_PREFIX = "NOTIFIER_"


class SmtpSettings(BaseModel):
    """How learner e-mails leave the service (``NOTIFIER_SMTP__HOST`` ...)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=587, gt=0, lt=65536)
    tls: Literal["none", "starttls", "tls"] = Field(
        default="starttls",
        description="'tls' = implicit TLS (port 465), 'starttls' = upgrade after connect, "
        "'none' = plain text (local development and tests only).",
    )
    validate_certs: bool = True
    username: str | None = None
    password: SecretStr | None = None
    sender: str = Field(
        default="Sceau <no-reply@sceau.local>", description="From header and envelope sender."
    )
    message_id_domain: str = Field(
        default="sceau.local",
        description="Right-hand side of the Message-ID we derive from each notification's key.",
    )
    timeout_s: float = Field(default=30.0, gt=0)
    pool_size: int = Field(
        default=8, ge=1, le=64, description="Concurrent SMTP connections kept open."
    )


class RetrySettings(BaseModel):
    """Exponential backoff with jitter for a delivery channel."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    max_attempts: int = Field(default=8, ge=1)
    base_delay_s: float = Field(default=5.0, gt=0)
    factor: float = Field(default=3.0, ge=1.0)
    max_delay_s: float = Field(default=6 * 3600.0, gt=0)
    jitter: float = Field(
        default=0.3, ge=0.0, le=1.0, description="Fraction of each delay drawn at random."
    )
    lease_s: float = Field(
        default=120.0,
        gt=0,
        description="How long a 'sending' claim is honoured; after it, a crashed send is retried.",
    )


class WebhookSettings(BaseModel):
    """Institution webhooks: SSRF policy, timeouts and retries."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_private: bool = Field(
        default=False,
        description="Accept endpoints on loopback/private/link-local addresses (local dev only).",
    )
    allowed_schemes: frozenset[str] = Field(
        default=frozenset({"https"}),
        description="URL schemes accepted for endpoints; add 'http' only for local development.",
    )
    timeout_s: float = Field(default=15.0, gt=0)
    concurrency: int = Field(default=8, ge=1, le=256)
    retry: RetrySettings = RetrySettings()
    secret_key: SecretStr | None = Field(
        default=None,
        description="Base64 of 32 random bytes; encrypts endpoint signing secrets at rest. "
        "Registering endpoints is refused while it is unset.",
    )

    @field_validator("secret_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        try:
            raw = base64.b64decode(value.get_secret_value(), validate=True)
        except (binascii.Error, ValueError) as exc:
            raise ValueError("must be base64") from exc
        if len(raw) != 32:
            raise ValueError("must decode to exactly 32 bytes")
        return value


class ReminderSettings(BaseModel):
    """Expiry reminders: when they go out and how often the scheduler looks."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    offsets_days: list[int] = Field(default_factory=lambda: [90, 30, 7])
    on_expiry: bool = True
    survey_after_days: int = Field(
        default=30,
        ge=1,
        le=730,
        description="Days after issuance the follow-up survey e-mail goes out (R75), for "
        "achievements with a survey link that do not set their own delay.",
    )
    poll_interval_s: float = Field(default=30.0, gt=0)
    batch_size: int = Field(default=200, ge=1)

    @field_validator("offsets_days")
    @classmethod
    def _check_offsets(cls, value: list[int]) -> list[int]:
        if any(v <= 0 for v in value):
            raise ValueError("offsets are positive numbers of days before expiry")
        return sorted(set(value), reverse=True)


class ConsumerSettings(BaseModel):
    """How notification requests are read from Kafka and how many are handled together."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    group_prefix: str = Field(
        default="notifier",
        pattern=r"^[A-Za-z0-9._-]{1,100}$",
        description="Prefix of the Kafka consumer groups (a new prefix re-reads topics).",
    )
    max_records: int = Field(default=500, ge=1, le=5000)
    batch_timeout_ms: int = Field(default=100, ge=1)
    max_inflight_batches: int = Field(
        default=4, ge=1, le=16, description="Recorded batches being sent while the next is read."
    )
    retry_delay_s: float = Field(default=1.0, ge=0)
    sweep_interval_s: float = Field(
        default=5.0, gt=0, description="How often due retries and expired claims are picked up."
    )


class NotifierSettings(StoringServiceSettings):
    """Settings of the notifier, e.g. ``NOTIFIER_MONGO__URI`` (nested fields use ``__``)."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    mongo: MongoSettings = MongoSettings(database="sceau_notifier")
    http: HttpSettings = HttpSettings(port=8004, public_base_url="http://127.0.0.1:8004")
    operator_token: SecretStr | None = Field(
        default=None,
        description="Bearer token of the operator API; while unset that API answers 401.",
    )
    verifier_public_url: str = Field(
        default="http://127.0.0.1:8003",
        description="Public verifier; learner e-mails point employers to '{url}/'.",
    )
    wallet_help_url: str | None = Field(
        default=None, description="Optional page explaining wallets, linked from e-mails."
    )
    smtp: SmtpSettings = SmtpSettings()
    email_retry: RetrySettings = RetrySettings(base_delay_s=30.0, max_attempts=6)
    webhooks: WebhookSettings = WebhookSettings()
    reminders: ReminderSettings = ReminderSettings()
    consumer: ConsumerSettings = ConsumerSettings()

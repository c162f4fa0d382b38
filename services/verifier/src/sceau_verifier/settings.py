"""Settings of the verifier service (environment prefix ``VERIFIER_``)."""

from __future__ import annotations

import base64
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from sceau_credentials.dids import DidWebSettings
from sceau_shared.runtime import ServiceSettings
from sceau_shared.settings import HttpSettings

SERVICE_NAME = "sceau-verifier"
ENV_PREFIX = "VERIFIER_"


class StatusSettings(BaseModel):
    """How status list credentials are fetched and cached.

    Status lists are only fetched from ``allowed_hosts`` (the registry hosts that serve them): a
    credential is written by anyone, and its ``statusListCredential`` URL must not turn the verifier
    into a proxy towards arbitrary hosts. The SSRF guard applies on top of the allow-list.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allowed_hosts: list[str] = Field(
        default_factory=lambda: ["127.0.0.1:8002"],
        description="host or host:port values from which status lists may be fetched.",
    )
    allow_private_hosts: bool = Field(
        default=False,
        description="Local development only: allow http and loopback/private addresses.",
    )
    timeout_s: float = Field(default=3.0, gt=0, le=30)
    max_bytes: int = Field(default=2 * 1024 * 1024, gt=0)
    default_ttl_s: float = Field(
        default=300.0,
        ge=0,
        description="Freshness of a list without ttl/Cache-Control; events drop entries sooner.",
    )
    max_ttl_s: float = Field(default=3600.0, ge=0)
    cache_max_entries: int = Field(default=4096, ge=1)

    @field_validator("allowed_hosts")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [v.strip().lower() for v in value if v.strip()]


class TrustSettings(BaseModel):
    """Where the registry answers "may this DID issue this, at that date?" and how long to cache."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    registry_url: str = "http://127.0.0.1:8002"
    registry_token: SecretStr | None = Field(
        default=None,
        description=(
            "The deployment's verifier token (the registry's REGISTRY_VERIFIER_TOKEN): trust "
            "lookups then draw from the verifiers' own rate bucket, not the public one."
        ),
    )
    timeout_s: float = Field(default=3.0, gt=0, le=30)
    cache_ttl_s: float = Field(
        default=30.0,
        ge=0,
        description=(
            "How long a trust answer is reused. Accreditation and key events drop entries "
            "sooner; this bounds how long a missed event (broker down) keeps a revoked key."
        ),
    )
    settle_s: float = Field(
        default=10.0,
        ge=0,
        description=(
            "After an event dropped a DID's answers, answers about it are not kept for this "
            "long: the registry (and its other replicas' 2-s caches) may not have applied the "
            "change yet."
        ),
    )
    cache_max_entries: int = Field(default=8192, ge=1)
    max_bytes: int = Field(default=256 * 1024, gt=0)


class SharesSettings(BaseModel):
    """Where share links are resolved: the issuer's ``GET /v1/shares/{token}`` (docs/verifier.md).

    The issuer owns shares (the learner's consent, expiry, revocation); the verifier asks it on
    every opening of ``/s/{token}`` but keeps each answer for ``cache_ttl_s`` only, so a share
    the learner revokes answers 410 within seconds while a busy link costs one request per TTL.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    issuer_url: str = Field(
        default="http://127.0.0.1:8001", description="Internal base URL of the issuer."
    )
    timeout_s: float = Field(default=3.0, gt=0, le=30)
    cache_ttl_s: float = Field(
        default=2.0, ge=0, le=60, description="How long one share answer is reused."
    )
    cache_max_entries: int = Field(default=4096, ge=1)
    page_cache_entries: int = Field(
        default=512,
        ge=0,
        description="Rendered share answers kept for cache_ttl_s (0: verify every opening).",
    )
    max_bytes: int = Field(default=2 * 1024 * 1024, gt=0)


class AnswerSettings(BaseModel):
    """``POST /v1/verify`` answers kept and sent again when the same question comes back.

    The same bytes, language, challenge and domain within ``ttl_s`` get the answer computed
    the first time (it says when: ``verified_at``); a status list, accreditation or key event
    drops every kept answer at once, and an inconclusive answer is never kept
    (``kept_answers.py``). Every request is still rate-limited and reported.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    ttl_s: float = Field(
        default=2.0, ge=0, le=60, description="How long an answer is sent again (0: never)."
    )
    max_entries: int = Field(
        default=1024, ge=0, description="Answers kept per worker at most (0: none)."
    )
    max_bytes: int = Field(
        default=16 * 1024 * 1024,
        gt=0,
        description="Weight of the answers kept per worker at most (bytes, events counted).",
    )


class LimitSettings(BaseModel):
    """Bounds that keep hostile input cheap to refuse."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_max: int = Field(default=100, ge=1, le=1000)
    events_per_request: int = Field(
        default=100,
        ge=0,
        le=10_000,
        description="Verification events one request may produce at most (a batch of "
        "presentations can hold thousands of credentials); the rest are answered, not reported.",
    )
    max_depth: int = Field(default=32, ge=4, le=256)
    verify_timeout_s: float = Field(
        default=20.0, gt=0, description="Deadline for one whole verification (all outbound calls)."
    )
    rate_limit_burst: int | None = Field(default=None, ge=1)


class Oid4vpSettings(BaseModel):
    """OpenID4VP at the verifier (an employer asks a wallet for a credential): off unless set.

    A request is a session two requests share (the wallet's ``direct_post`` and the employer's
    polling), possibly on two replicas, so it needs a store every replica sees: an optional
    MongoDB database of its own (``sceau_verifier``), addressed by ``_id`` only. The request
    objects are signed with one Ed25519 key all replicas share (``request_key``, a did:key).
    Without both, the OpenID4VP routes answer 503 and everything else works as before; the
    readiness probe never checks this store (docs/verifier.md, "OpenID4VP").
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    mongodb_uri: SecretStr | None = Field(
        default=None, description="MongoDB URI of the request store (may carry credentials)."
    )
    database: str = Field(default="sceau_verifier", min_length=1, max_length=63)
    request_key: SecretStr | None = Field(
        default=None,
        description="base64url of the 32-byte Ed25519 seed that signs request objects (secret).",
    )
    request_ttl_s: float = Field(
        default=300.0, ge=10, le=3600, description="How long a wallet may answer a request."
    )
    result_ttl_s: float = Field(
        default=3600.0,
        ge=60,
        le=86_400,
        description="How long a request and its answer are kept after it expired, then deleted.",
    )
    timeout_s: float = Field(default=5.0, gt=0, le=30, description="Deadline of store calls.")
    server_selection_timeout_ms: int = Field(default=3000, gt=0)
    sweep_interval_s: float = Field(default=60.0, gt=0)

    @field_validator("mongodb_uri")
    @classmethod
    def _check_uri(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value().startswith(
            ("mongodb://", "mongodb+srv://")
        ):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("request_key")
    @classmethod
    def _check_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None:
            raw = value.get_secret_value().strip()
            try:
                seed = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            except ValueError as exc:
                raise ValueError("must be base64url") from exc
            if len(seed) != 32:
                raise ValueError("must be 32 bytes (an Ed25519 seed) in base64url")
        return value

    @property
    def enabled(self) -> bool:
        """Both the store and the request key are configured."""
        return self.mongodb_uri is not None and self.request_key is not None

    def seed(self) -> bytes:
        """The request key's 32-byte seed (call only when :attr:`enabled`). Secret."""
        if self.request_key is None:
            raise ValueError("no request key")
        raw = self.request_key.get_secret_value().strip()
        return base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))


class VerifierSettings(ServiceSettings):
    """Settings of the verifier, e.g. ``VERIFIER_TRUST__REGISTRY_URL`` (nested fields use ``__``).

    No database of its own for verifying: per-process caches, Kafka (cache invalidation in,
    verification events out) and the registry's public HTTP API. Only the optional OpenID4VP
    requests (``oid4vp``) use a MongoDB store, and nothing else depends on it.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    http: HttpSettings = HttpSettings(port=8003, public_base_url="http://127.0.0.1:8003")
    status: StatusSettings = StatusSettings()
    trust: TrustSettings = TrustSettings()
    shares: SharesSettings = SharesSettings()
    answers: AnswerSettings = AnswerSettings()
    did_web: DidWebSettings = DidWebSettings()
    limits: LimitSettings = LimitSettings()
    oid4vp: Oid4vpSettings = Oid4vpSettings()
    status_cache_group: str = Field(
        default="verifier.status-cache",
        description=(
            "Consumer group prefix for cache invalidation; each process appends a unique suffix "
            "so every replica receives every event and drops its own cache."
        ),
    )
    trust_cache_group: str = Field(
        default="verifier.trust-cache",
        description="Consumer group prefix for trust invalidation (also made unique per process).",
    )
    key_cache_group: str = Field(
        default="verifier.key-cache",
        description="Consumer group prefix for key events (also made unique per process).",
    )
    invalidation_offset_reset: Literal["latest", "earliest"] = Field(
        default="latest",
        description="Where a new process's invalidation consumers start (its cache is empty).",
    )
    require_trusted_issuer: bool = Field(
        default=True,
        description=(
            "Count the issuer check (registered, accredited at issuance, key valid) towards "
            "'verified'. The engine alone treats it as informative."
        ),
    )
    proof_memo_entries: int = Field(
        default=2048,
        ge=0,
        description="Verified proofs remembered by document digest (0 turns the memo off).",
    )
    proof_threads: int = Field(
        default=2,
        ge=1,
        le=32,
        description=(
            "Threads that verify proofs (canonicalization, didkit) off the event loop, per "
            "worker; more verifications wait for a free thread within their deadline."
        ),
    )
    publish_events: bool = True
    report_queue_max: int = Field(
        default=10_000,
        ge=1,
        description=(
            "VerificationCompletedV1 events waiting for the broker, at most, per worker; past "
            "that (broker down or far behind) new ones are dropped and counted in "
            "sceau.events.dropped. Verifications never wait for the broker."
        ),
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=32,
        description=(
            "HTTP worker processes sharing the port on this host. Verification is CPU-bound and "
            "the verifier keeps no state but caches, so one worker per core uses the machine; "
            "each worker has its own caches and invalidation consumers, and the per-client rate "
            "limit applies per worker. On Kubernetes prefer replicas (and the HPA) with 1."
        ),
    )

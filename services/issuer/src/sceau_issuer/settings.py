"""Settings of the issuer service (environment prefix ``ISSUER_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from sceau_shared.runtime import StoringServiceSettings
from sceau_shared.settings import HttpSettings, MongoSettings, decode_master_key

SERVICE_NAME = "sceau-issuer"
ENV_PREFIX = "ISSUER_"


class IssuerSettings(StoringServiceSettings):
    """Settings of the issuer, e.g. ``ISSUER_MONGO__URI`` (nested fields use ``__``).

    ``master_key`` has no default on purpose: private signing keys are encrypted under it, and a
    default would mean every careless deployment shares one key. Generate one with
    ``python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())"``.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid"
    )

    mongo: MongoSettings = MongoSettings(database="sceau_issuer")
    http: HttpSettings = HttpSettings(
        port=8001, public_base_url="http://127.0.0.1:8001", max_body_bytes=8 * 1024 * 1024
    )

    master_key: SecretStr = Field(
        description="Base64 of 32 random bytes; encrypts signing keys (AES-256-GCM) and derives "
        "the claim-link and API-key hashing secrets. Never logged."
    )
    registry_public_url: str = Field(
        default="http://127.0.0.1:8002",
        description="Registry base URL; status list URLs and hosted did:web DIDs derive from it.",
    )
    verifier_public_url: str = Field(
        default="http://127.0.0.1:8003", description="Public verification page (learner emails)."
    )
    claim_link_ttl_s: int = Field(default=30 * 24 * 3600, gt=0)
    learner_link_ttl_s: int = Field(
        default=7 * 24 * 3600, gt=0, description="Lifetime of a learner page link (e-mailed)."
    )
    share_max_days: int = Field(
        default=365, ge=1, le=3650, description="Longest expiry a learner may give a share link."
    )
    learner_mail_per_hour: int = Field(
        default=5,
        ge=1,
        description="E-mails a learner may have sent per credential (shares) and per address "
        "(new links, shared links) each hour.",
    )
    wallet_offer_ttl_s: int = Field(
        default=900,
        ge=30,
        le=7 * 24 * 3600,
        description="Lifetime of a wallet credential offer (OpenID4VCI pre-authorized code).",
    )
    wallet_sweep_s: float = Field(
        default=60.0,
        gt=0,
        description="How often expired wallet offers, grants and spent nonces are deleted.",
    )
    max_batch_recipients: int = Field(default=10_000, gt=0)
    batch_chunk_size: int = Field(default=250, gt=0, le=2000)
    batch_lease_s: float = Field(default=30.0, gt=0)
    worker_poll_s: float = Field(default=0.5, gt=0)
    sign_workers: int = Field(
        default=2, ge=0, description="Processes signing batch credentials; 0 signs in-thread."
    )
    issue_group_window_s: float = Field(
        default=0.006,
        ge=0,
        le=1,
        description="Single issues arriving within this window (or while the previous group is "
        "being written) share their database writes (group commit). 6 ms measured best at 16 "
        "clients (docs/benchmarks.md). It closes early once as many wait as were in flight "
        "when a group last formed; a lone client's requests (one in flight at a time) do not "
        "wait, except the first after a quiet second.",
    )
    issue_group_max: int = Field(
        default=64, ge=1, le=1000, description="Single issues written together at most."
    )
    issue_groups_in_flight: int = Field(
        default=2,
        ge=1,
        le=16,
        description="Groups of single issues written at once (the next forms while these are "
        "signed and stored).",
    )
    endorsement_cache_s: float = Field(
        default=2.0,
        ge=0,
        le=300,
        description="How long a replica embeds the accepted endorsements of an achievement "
        "version it read before reading them again (the replica that records an acceptance "
        "sees it at once; others within this many seconds).",
    )
    status_debounce_s: float = Field(
        default=0.25,
        ge=0,
        description="While changes keep coming, a list is re-signed at most once per this window "
        "(a change after a quiet period is published at once). A re-sign reads only the changes "
        "since the previous one, so a short window costs little; it bounds how late a revocation "
        "made during a stream of changes is published.",
    )
    status_poll_s: float = Field(
        default=60.0,
        gt=0,
        description="Safety poll of the status publisher (it is woken on every change); each "
        "round reads the status lists and the status change log (never the credentials).",
    )
    status_list_ttl_ms: int = Field(default=300_000, ge=0)
    status_reserve_block: int = Field(
        default=64,
        ge=0,
        le=10_000,
        description="Status slots a replica claims ahead when its stock runs short (and in the "
        "background once under half of this), so groups of single issues pay no allocation "
        "writes and never wait for one; slots held when the replica stops stay unused (zero "
        "bits). 0 claims exactly what each group needs.",
    )
    outbox_relays: int = Field(
        default=1, ge=1, le=32, description="Relays for the small outbox collections."
    )
    chunk_relays: int = Field(
        default=4,
        ge=1,
        le=32,
        description="Relays publishing batch chunk events in parallel (each chunk has one).",
    )
    credentials_outbox_sweep_s: float | None = Field(
        default=None,
        gt=0,
        description="How often the credentials, batch-chunk, share-receipt and learner-message "
        "relays sweep their pending-outbox markers for events a dead process wrote but did not "
        "publish (also at start-up). The "
        "sweep reads only the markers of unpublished writes, not the credentials. Unset: every "
        "60 s. A database written before the markers existed is read whole once, at its first "
        "start-up with them.",
    )
    small_cell_threshold: int = Field(
        default=5, ge=1, description="Report cells below this count are suppressed."
    )
    conformance_dir: Path | None = Field(
        default=None,
        description="Development only (off by default): write a copy of every credential signed "
        "into this folder, for the conformance check of the test session "
        "(credential_copies.py).",
    )

    @field_validator("master_key")
    @classmethod
    def _check_master_key(cls, value: SecretStr) -> SecretStr:
        decode_master_key(value)
        return value

    @field_validator("registry_public_url", "verifier_public_url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/")

"""Settings sub-models that every service composes into its own settings class.

These are plain ``BaseModel`` classes, not ``BaseSettings``: pydantic-settings reads the
environment only at the top level (``IssuerSettings`` with ``env_prefix="ISSUER_"`` and
``env_nested_delimiter="__"``), so ``ISSUER_KAFKA__BOOTSTRAP_SERVERS`` lands in
``IssuerSettings.kafka.bootstrap_servers``. Nothing here is instantiated at import time;
entrypoints build settings once and pass them down.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import NoDecode


class KafkaSettings(BaseModel):
    """Where the Kafka cluster is and how this process identifies itself to it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    bootstrap_servers: str = "127.0.0.1:19092"
    client_id: str = "sceau"
    topic_prefix: str = Field(
        default="",
        description="Prepended to every topic name; tests use it to give each test its own topics.",
    )
    request_timeout_s: float = Field(default=10.0, gt=0)
    handler_deadline_s: float = Field(
        default=60.0,
        gt=0,
        description="Deadline of the MongoDB calls made while handling one consumed event: past "
        "it (a database that stopped answering) the handling is retried after a pause, without "
        "acknowledging the event. Must exceed any handler's normal time.",
    )
    retry_max_backoff_s: float = Field(
        default=30.0,
        gt=0,
        description="Longest pause between two tries of an event whose handling met an outage "
        "(the pause doubles from half a second up to this, with jitter).",
    )

    @field_validator("bootstrap_servers")
    @classmethod
    def _check_servers(cls, value: str) -> str:
        servers = [s.strip() for s in value.split(",") if s.strip()]
        if not servers:
            raise ValueError("at least one host:port is required")
        for server in servers:
            host, sep, port = server.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server!r} is not host:port")
        return ",".join(servers)

    def topic(self, name: str) -> str:
        """Return the physical topic name for a logical one (applies ``topic_prefix``)."""
        return f"{self.topic_prefix}{name}"

    def group(self, name: str) -> str:
        """Return the physical consumer group for a logical one (applies ``topic_prefix``).

        Two deployments that share a broker with different prefixes (tests, the seeding stack,
        staging beside production) must not share consumer groups either: a shared group would
        rebalance them against each other every few seconds.
        """
        return f"{self.topic_prefix}{name}"


class MongoSettings(BaseModel):
    """MongoDB connection. The URI may carry credentials, so it is a secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    uri: SecretStr = SecretStr("mongodb://127.0.0.1:27018/")
    database: str = Field(default="sceau", min_length=1, max_length=63)
    server_selection_timeout_ms: int = Field(default=5000, gt=0)
    request_timeout_s: float = Field(default=10.0, gt=0)
    """Deadline of an HTTP request's MongoDB calls: past it the request answers 503.

    It runs from the request's start, so it includes time spent waiting behind the service's
    own serialized writes (the registry's): 5 s turned 9 concurrent operator changes on a loaded
    two-core machine into one 503.
    """

    @field_validator("uri")
    @classmethod
    def _check_uri(cls, value: SecretStr) -> SecretStr:
        raw = value.get_secret_value()
        if not raw.startswith(("mongodb://", "mongodb+srv://")):
            raise ValueError("must start with mongodb:// or mongodb+srv://")
        return value

    @field_validator("database")
    @classmethod
    def _check_database(cls, value: str) -> str:
        bad = set('/\\. "$') & set(value)
        if bad:
            raise ValueError(f"database name may not contain {''.join(sorted(bad))!r}")
        return value


class TelemetrySettings(BaseModel):
    """OpenTelemetry export. With no endpoint, spans and metrics stay in-process (export off)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    otlp_endpoint: str | None = Field(
        default=None, description="OTLP/HTTP base URL, e.g. http://otel-collector:4318"
    )
    sample_ratio: float = Field(default=1.0, ge=0.0, le=1.0)
    log_level: str = "INFO"
    log_json: bool = True


class HttpSettings(BaseModel):
    """How a service serves HTTP."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str = "127.0.0.1"
    port: int = Field(default=8000, gt=0, lt=65536)
    max_body_bytes: int = Field(default=1_048_576, gt=0)
    public_base_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Absolute URL at which clients reach this service (used in links we emit).",
    )
    rate_limit_per_minute: int = Field(
        default=600, ge=0, description="Per-client limit on public endpoints; 0 disables it."
    )
    # NoDecode: the environment gives a comma-separated list, not JSON.
    trusted_proxies: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="Addresses or networks (CIDR) of the reverse proxies whose X-Forwarded-For "
        "and X-Forwarded-Proto are believed, e.g. 10.0.0.0/8; comma-separated in the "
        "environment. Empty (the default): the headers are ignored and the client is the peer.",
    )

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _split_proxies(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _check_proxies(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        # "*" would make the server take the left-most X-Forwarded-For entry, which the client
        # writes itself: every request could claim a new address and escape the rate limits.
        for entry in value:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError as exc:
                raise ValueError(f"{entry!r} is not an IP address or network") from exc
        return value

    def proxy_options(self) -> dict[str, Any]:
        """The uvicorn options that apply :attr:`trusted_proxies`.

        Uvicorn walks X-Forwarded-For from the right, skipping trusted proxies: the client is
        the first address a trusted proxy saw, never what the client wrote in the header.
        """
        if not self.trusted_proxies:
            return {"proxy_headers": False}
        return {"proxy_headers": True, "forwarded_allow_ips": list(self.trusted_proxies)}


MASTER_KEY_BYTES = 32


def decode_master_key(value: SecretStr) -> bytes:
    """Return the raw 32-byte master key from its base64 (standard or url-safe) text.

    Shared by every service that encrypts secrets at rest (AES-256-GCM), so all accept and
    refuse master keys the same way.
    """
    raw = value.get_secret_value().strip()
    try:
        decoded = base64.urlsafe_b64decode(raw.replace("+", "-").replace("/", "_") + "==")
    except (binascii.Error, ValueError) as exc:
        raise ValueError("must be base64") from exc
    if len(decoded) != MASTER_KEY_BYTES:
        raise ValueError(f"must decode to {MASTER_KEY_BYTES} bytes (AES-256)")
    return decoded

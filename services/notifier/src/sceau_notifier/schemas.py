"""Request and response bodies of the operator API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from sceau_notifier.service.webhooks import WebhookEventType

INSTITUTION_ID = r"^[A-Za-z0-9._:-]{1,128}$"

DeliveryStatus = Literal["queued", "sending", "retrying", "failed", "sent", "pending"]
"""The statuses the delivery and e-mail logs can be filtered by."""

Limit = Annotated[int, Query(ge=1, le=500)]
"""How many log entries one call returns at most."""


class EndpointCreate(BaseModel):
    """Register an HTTPS endpoint for some event types."""

    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=2000, examples=["https://hooks.example.org/sceau"])
    event_types: list[WebhookEventType] = Field(min_length=1, max_length=10)
    description: str = Field(default="", max_length=500)


class EndpointUpdate(BaseModel):
    """Change an endpoint (fields left out stay as they are)."""

    model_config = ConfigDict(extra="forbid")

    url: str | None = Field(default=None, min_length=8, max_length=2000)
    event_types: list[WebhookEventType] | None = Field(default=None, min_length=1, max_length=10)
    description: str | None = Field(default=None, max_length=500)
    enabled: bool | None = None


class EndpointOut(BaseModel):
    """An endpoint as operators see it (never with its secret)."""

    id: str
    institution_id: str
    url: str
    event_types: list[str]
    description: str
    enabled: bool
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, doc: dict[str, Any]) -> EndpointOut:
        """Build from a stored endpoint."""
        return cls(
            id=doc["_id"],
            institution_id=doc["institution_id"],
            url=doc["url"],
            event_types=list(doc["event_types"]),
            description=doc.get("description", ""),
            enabled=bool(doc.get("enabled", True)),
            created_at=doc["created_at"],
            updated_at=doc["updated_at"],
        )


class EndpointCreated(EndpointOut):
    """The answer to a registration: the only time the signing secret is shown."""

    secret: str = Field(description="whsec_… — store it now; it is never shown again.")


class DeliveryOut(BaseModel):
    """One webhook delivery (one event to one endpoint) and how it went."""

    id: str
    webhook_id: str
    endpoint_id: str
    institution_id: str
    event_type: str
    status: str
    attempts: int
    last_error: str | None = None
    status_code: int | None = None
    next_attempt_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    created_at: AwareDatetime
    replays: int = 0

    @classmethod
    def of(cls, view: dict[str, Any]) -> DeliveryOut:
        """Build from a ledger view."""
        return cls(
            id=view["_id"],
            webhook_id=view["webhook_id"],
            endpoint_id=view["endpoint_id"],
            institution_id=view["institution_id"],
            event_type=view["event_type"],
            status=view["status"],
            attempts=view.get("attempts", 0),
            last_error=view.get("last_error"),
            status_code=view.get("status_code"),
            next_attempt_at=view.get("next_attempt_at"),
            completed_at=view.get("completed_at"),
            created_at=view["created_at"],
            replays=view.get("replays", 0),
        )


class EmailOut(BaseModel):
    """One learner e-mail in the delivery log: never the address, only its hash."""

    id: str
    kind: str
    language: str
    institution_id: str
    credential_id: str
    recipient_hash: str
    message_id: str
    subject: str | None = None
    status: str
    attempts: int
    last_error: str | None = None
    next_attempt_at: AwareDatetime | None = None
    completed_at: AwareDatetime | None = None
    created_at: AwareDatetime
    replays: int = 0

    @classmethod
    def of(cls, view: dict[str, Any]) -> EmailOut:
        """Build from a ledger view (the service already removed contact fields)."""
        return cls(
            id=view["_id"],
            kind=view["kind"],
            language=view["language"],
            institution_id=view["institution_id"],
            credential_id=view["credential_id"],
            recipient_hash=view["recipient_hash"],
            message_id=view["message_id"],
            subject=view.get("subject"),
            status=view["status"],
            attempts=view.get("attempts", 0),
            last_error=view.get("last_error") or view.get("render_error"),
            next_attempt_at=view.get("next_attempt_at"),
            completed_at=view.get("completed_at"),
            created_at=view["created_at"],
            replays=view.get("replays", 0),
        )

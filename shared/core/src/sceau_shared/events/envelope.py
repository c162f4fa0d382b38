"""The event envelope every Kafka message in Sceau carries.

Each concrete event is a frozen Pydantic model bound to exactly one topic (``TOPIC``) and one schema
version (``VERSION``); the envelope fields (id, type, version, time, producer, trace context)
travel in
the JSON body so a consumer can deduplicate on ``event_id`` and dispatch on ``event_type`` without
reading Kafka headers. Consumers ignore fields they do not know (``extra="ignore"``): within one
version producers may only *add optional* fields; a breaking change is a new class on a ``.v2``
topic.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import ClassVar, Self
from uuid import UUID, uuid4

from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator


def capture_trace_context() -> dict[str, str]:
    """Return the active W3C trace context (``traceparent``/``tracestate``), empty when none.

    Events created inside a traced request carry it, so the outbox relay can publish them later
    as part of the same trace even though the request has long finished.
    """
    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return carrier


def utcnow() -> datetime:
    """Return the current time as an aware UTC datetime (events never carry naive times)."""
    return datetime.now(UTC)


class Event(BaseModel):
    """Base class of every event.

    Subclasses set ``TOPIC`` (logical topic name, without any prefix), ``VERSION`` and ``KEY_FIELD``
    (the field holding the aggregate id used as the Kafka message key, which keeps per-entity
    order).
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    TOPIC: ClassVar[str]
    VERSION: ClassVar[int] = 1
    KEY_FIELD: ClassVar[str]

    event_id: UUID = Field(default_factory=uuid4)
    event_type: str = ""
    event_version: int = 0
    occurred_at: AwareDatetime = Field(default_factory=utcnow)
    producer: str
    trace_context: dict[str, str] = Field(
        default_factory=capture_trace_context,
        description="W3C trace context (traceparent/tracestate) captured at creation.",
    )

    @model_validator(mode="after")
    def _stamp_type(self) -> Self:
        # Fill type/version from the class so producers cannot get them wrong, and refuse a payload
        # of another type being parsed as this one (a wrongly routed message).
        expected = type(self).type_name()
        if self.event_type and self.event_type != expected:
            raise ValueError(f"event_type {self.event_type!r} is not {expected!r}")
        object.__setattr__(self, "event_type", expected)
        object.__setattr__(self, "event_version", type(self).VERSION)
        return self

    @classmethod
    def type_name(cls) -> str:
        """Return the stable type name, derived from the topic (e.g. ``credential-issued``)."""
        return cls.TOPIC.split(".")[1]

    @property
    def key(self) -> bytes:
        """Return the Kafka message key: the aggregate id, so one entity's events stay in order."""
        return str(getattr(self, self.KEY_FIELD)).encode()

    def to_bytes(self) -> bytes:
        """Serialise to the JSON bytes put on the wire."""
        return self.model_dump_json().encode()

"""Dead-letter envelope for messages a consumer can never handle (poison messages).

A dead letter keeps the original bytes so an operator can inspect and replay it. The dead-letter
copy
of a notification request inherits that topic's sensitivity (it may hold contact details).
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sceau_shared.events.envelope import Event

DLQ_SUFFIX = ".dlq"


class DeadLetterV1(Event):
    """A message that failed permanently, with where it came from and why."""

    TOPIC: ClassVar[str] = "system.dead-letter.v1"
    KEY_FIELD: ClassVar[str] = "original_topic"

    original_topic: str
    partition: int | None = None
    offset: int | None = None
    original_key: str | None = None
    payload: str = Field(description="Original message body, decoded as UTF-8 with replacement.")
    error: str
    consumer_group: str


def dead_letter_topic(topic: str) -> str:
    """Return the dead-letter topic for a topic (``<topic>.dlq``)."""
    return f"{topic}{DLQ_SUFFIX}"

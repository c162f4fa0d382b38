"""Dead-letter envelope for messages a consumer can never handle (poison messages).

A dead letter keeps the original bytes so an operator can inspect and replay it. The dead-letter
copy of a notification request inherits that topic's sensitivity (it may hold contact details).

There is no single dead-letter topic: each letter goes to ``<original topic>.dlq``
(:func:`dead_letter_topic`), so a topic's retention and access rules apply to its dead letters.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import Field

from sceau_shared.events.envelope import Event

DLQ_SUFFIX = ".dlq"


class DeadLetterV1(Event):
    """A message that failed permanently, with where it came from and why."""

    #: A pattern, not a topic: letters go to ``dead_letter_topic(original_topic)``.
    TOPIC: ClassVar[str] = "<topic>" + DLQ_SUFFIX
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

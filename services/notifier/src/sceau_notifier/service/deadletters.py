"""Where notifications go when every attempt failed: a dead-letter topic, besides the ledger."""

from __future__ import annotations

from typing import Protocol

from sceau_shared.events import DeadLetterV1, dead_letter_topic
from sceau_shared.kafka import EventPublisher


class DeadLetterSink(Protocol):
    """Publishes a dead letter for a notification that will not be retried automatically."""

    async def __call__(self, *, channel: str, key: str, payload: str, error: str) -> None:
        """Publish; ``payload`` must never contain a learner's contact details."""


class KafkaDeadLetters:
    """Publishes given-up deliveries to ``notifier.<channel>.v1.dlq``."""

    def __init__(self, publisher: EventPublisher) -> None:
        self._publisher = publisher

    async def __call__(self, *, channel: str, key: str, payload: str, error: str) -> None:
        """Publish one dead letter (the ledger keeps the failed delivery visible too)."""
        logical = f"notifier.{channel}.v1"
        letter = DeadLetterV1(
            producer=self._publisher.producer,
            original_topic=logical,
            original_key=key,
            payload=payload,
            error=error[:2000],
            consumer_group=f"notifier.{channel}",
        )
        await self._publisher.publish_raw(
            topic=dead_letter_topic(logical),
            key=key.encode(),
            payload=letter.to_bytes(),
            event_id=str(letter.event_id),
            event_type=letter.event_type,
        )

"""FastStream subscribers of the notifier and its dead-letter publisher.

Notification requests are consumed in batches (one Mongo round trip and concurrent SMTP sends per
batch instead of per message); the offsets of a batch are committed only after it was handled.
The other events use the shared one-at-a-time subscriber.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from pydantic import ValidationError

from sceau_notifier.service.intake import Intake
from sceau_notifier.settings import NotifierSettings
from sceau_shared.events import (
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    DeadLetterV1,
    IssuerKeyPublishedV1,
    NotificationRequestedV1,
    VerificationCompletedV1,
    dead_letter_topic,
)
from sceau_shared.kafka import EventPublisher, subscribe_event

_log = logging.getLogger(__name__)


class IntakeHandle:
    """Gives handlers the intake once the lifespan has built it (subscribers exist before)."""

    def __init__(self) -> None:
        self._intake: Intake | None = None
        self._ready = asyncio.Event()

    def set(self, intake: Intake) -> None:
        """Publish the built intake to the waiting handlers."""
        self._intake = intake
        self._ready.set()

    async def get(self) -> Intake:
        """Wait until the intake exists, then return it."""
        await self._ready.wait()
        assert self._intake is not None  # noqa: S101 - set before the event
        return self._intake


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


def _records(message: KafkaMessage) -> list[Any]:
    raw: Any = message.raw_message
    return list(raw) if isinstance(raw, tuple | list) else [raw]


async def _poison(publisher: EventPublisher, record: Any, error: str, group: str) -> None:
    # Same shape as the shared subscriber's dead letters; the payload may hold contact data,
    # so the DLQ topic inherits the source topic's access rules (see the events module).
    topic = str(getattr(record, "topic", ""))
    key = getattr(record, "key", None)
    value = getattr(record, "value", b"") or b""
    letter = DeadLetterV1(
        producer=publisher.producer,
        original_topic=topic,
        partition=getattr(record, "partition", None),
        offset=getattr(record, "offset", None),
        original_key=key.decode("utf-8", "replace") if isinstance(key, bytes) else None,
        payload=bytes(value).decode("utf-8", "replace"),
        error=error[:2000],
        consumer_group=group,
    )
    # publish_raw adds the topic prefix: name the logical topic, whose ".dlq" is the one above.
    await publisher.publish_raw(
        topic=dead_letter_topic(NotificationRequestedV1.TOPIC),
        key=letter.key,
        payload=letter.to_bytes(),
        event_id=str(letter.event_id),
        event_type=letter.event_type,
    )


def register_subscribers(
    broker: KafkaBroker,
    publisher: EventPublisher,
    *,
    settings: NotifierSettings,
    handle: IntakeHandle,
) -> None:
    """Attach every subscriber of the notifier to ``broker``."""
    consumer = settings.consumer
    prefix = consumer.group_prefix

    @broker.subscriber(
        settings.kafka.topic(NotificationRequestedV1.TOPIC),
        group_id=f"{prefix}.emails",
        batch=True,
        max_records=consumer.max_records,
        batch_timeout_ms=consumer.batch_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
    )
    async def notification_requests(
        body: Any,
        message: KafkaMessage,
    ) -> None:
        # ``body`` is FastStream's decoded copy; we parse the raw records ourselves so a bad
        # payload (which may hold an address) never reaches FastStream's error logging.
        del body
        events: list[NotificationRequestedV1] = []
        for record in _records(message):
            try:
                events.append(NotificationRequestedV1.model_validate_json(record.value or b""))
            except ValidationError as exc:
                # Never log the payload: it may hold an address. The error count is enough.
                _log.warning(
                    "invalid notification request dead-lettered (%d errors)", exc.error_count()
                )
                await _poison(
                    publisher,
                    record,
                    f"invalid payload ({exc.error_count()} errors)",
                    f"{prefix}.emails",
                )
        intake = await handle.get()
        try:
            await intake.notification_requests(events, pipelined=True)
        except Exception as exc:
            _log.warning("notification batch failed, will be redelivered: %s", type(exc).__name__)
            await asyncio.sleep(consumer.retry_delay_s)
            raise

    @subscribe_event(
        broker,
        CredentialIssuedV1,
        settings=settings.kafka,
        group_id=f"{prefix}.webhooks.issued",
        publisher=publisher,
    )
    async def credential_issued(event: CredentialIssuedV1) -> None:
        await (await handle.get()).credential_issued(event)

    @subscribe_event(
        broker,
        CredentialStatusChangedV1,
        settings=settings.kafka,
        group_id=f"{prefix}.webhooks.status",
        publisher=publisher,
    )
    async def credential_status_changed(event: CredentialStatusChangedV1) -> None:
        await (await handle.get()).credential_status_changed(event)

    @subscribe_event(
        broker,
        VerificationCompletedV1,
        settings=settings.kafka,
        group_id=f"{prefix}.webhooks.verification",
        publisher=publisher,
    )
    async def verification_completed(event: VerificationCompletedV1) -> None:
        await (await handle.get()).verification_completed(event)

    @subscribe_event(
        broker,
        IssuerKeyPublishedV1,
        settings=settings.kafka,
        group_id=f"{prefix}.issuer-dids",
        publisher=publisher,
    )
    async def key_published(event: IssuerKeyPublishedV1) -> None:
        await (await handle.get()).key_published(event)

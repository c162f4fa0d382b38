"""FastStream subscribers of the notifier and its dead-letter publisher.

Notification requests are consumed in batches (one Mongo round trip and concurrent SMTP sends per
batch instead of per message); the offsets of a batch are committed only after it was handled.
The other events use the shared one-at-a-time subscriber.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaMessage
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, StatusCode, Tracer, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
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
_PROPAGATOR = TraceContextTextMapPropagator()


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


def _header_context(record: Any) -> dict[str, str]:
    """The W3C trace headers of one Kafka record (set by the producer's tracing middleware)."""
    carrier: dict[str, str] = {}
    for name, value in getattr(record, "headers", None) or ():
        if name in {"traceparent", "tracestate"} and isinstance(value, bytes | str):
            carrier[name] = value.decode("latin-1") if isinstance(value, bytes) else value
    return carrier


@contextlib.contextmanager
def _message_spans(
    tracer: Tracer, topic: str, items: list[tuple[Any, NotificationRequestedV1]]
) -> Iterator[dict[str, dict[str, str]]]:
    """One consumer span per message of a batch, each continuing its producer's trace.

    FastStream gives a batch one ``process`` span in a new trace that only *links* to the
    messages' producers, so without this the e-mail would fall out of the request's trace. Each
    span here is a child of its own message's producer span (from the Kafka headers) and links
    to the batch span; the yielded map (event id → W3C trace context of that span) travels with
    the e-mail so its SMTP send is traced as a child, even when it is sent later or re-sent.
    The spans are not made current: the batch's own database calls stay under the batch span.
    """
    batch = trace.get_current_span().get_span_context()
    links = [Link(batch)] if batch.is_valid else []
    spans: list[Span] = []
    origins: dict[str, dict[str, str]] = {}
    for record, event in items:
        span = tracer.start_span(
            f"{topic} process message",
            # The headers name the Kafka hop; the body's context (the producing request) is the
            # fallback for producers that publish without the tracing middleware.
            context=_PROPAGATOR.extract(_header_context(record) or event.trace_context),
            kind=SpanKind.CONSUMER,
            links=links,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation": "process",
                "messaging.destination.name": topic,
                "messaging.message.id": str(event.event_id),
                "messaging.kafka.destination.partition": int(getattr(record, "partition", -1)),
                "messaging.kafka.message.offset": int(getattr(record, "offset", -1)),
            },
        )
        spans.append(span)
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier, context=trace.set_span_in_context(span))
        origins[str(event.event_id)] = carrier
    try:
        yield origins
    except Exception as exc:
        for span in spans:
            span.record_exception(exc)
            span.set_status(StatusCode.ERROR, type(exc).__name__)
        raise
    finally:
        for span in spans:
            span.end()


def register_subscribers(
    broker: KafkaBroker,
    publisher: EventPublisher,
    *,
    settings: NotifierSettings,
    handle: IntakeHandle,
    tracer_provider: TracerProvider | None = None,
) -> None:
    """Attach every subscriber of the notifier to ``broker``."""
    consumer = settings.consumer
    prefix = consumer.group_prefix
    tracer = (tracer_provider or trace.get_tracer_provider()).get_tracer(__name__)
    email_topic = settings.kafka.topic(NotificationRequestedV1.TOPIC)

    @broker.subscriber(
        email_topic,
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
        items: list[tuple[Any, NotificationRequestedV1]] = []
        for record in _records(message):
            try:
                parsed = NotificationRequestedV1.model_validate_json(record.value or b"")
                items.append((record, parsed))
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
        events = [event for _, event in items]
        try:
            with _message_spans(tracer, email_topic, items) as origins:
                await intake.notification_requests(events, pipelined=True, origins=origins)
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

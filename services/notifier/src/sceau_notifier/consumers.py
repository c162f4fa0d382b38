"""The notifier's Kafka consumers: one FastStream router, handlers get the graph injected.

Notification requests are consumed in batches (one Mongo round trip and concurrent SMTP sends per
batch instead of per message); the offsets of a batch are committed only after it was handled.
``consume_event`` delivers one event at a time, so this one subscriber is declared on the router
directly — with the same injection of the graph and the publisher from FastStream's context, and
its own dead-lettering of bad payloads. The other events use ``consume_event``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from faststream import Context
from faststream.kafka import KafkaMessage, KafkaRouter
from opentelemetry import trace
from opentelemetry.trace import Link, Span, SpanKind, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import ValidationError

from sceau_notifier.graph import NotifierGraph
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
from sceau_shared.kafka import (
    GRAPH_CONTEXT,
    PUBLISHER_CONTEXT,
    EventPublisher,
    consume_event,
    subscribe_batches,
)

__all__ = ["create_router"]

_log = logging.getLogger(__name__)
_PROPAGATOR = TraceContextTextMapPropagator()


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


def _notification_batches(router: KafkaRouter, settings: NotifierSettings) -> None:
    """The batch subscriber of notification requests (the one ``consume_event`` cannot express)."""
    consumer = settings.consumer
    group = settings.kafka.group(f"{consumer.group_prefix}.emails")
    email_topic = settings.kafka.topic(NotificationRequestedV1.TOPIC)

    @subscribe_batches(
        router,
        email_topic,
        group_id=group,
        max_records=consumer.max_records,
        batch_timeout_ms=consumer.batch_timeout_ms,
    )
    async def notification_requests(
        body: Any,
        message: KafkaMessage,
        # Typed Any: FastStream would otherwise validate the injected objects against the types.
        graph: Any = Context(GRAPH_CONTEXT),  # noqa: B008 - FastStream's injection marker
        publisher: Any = Context(PUBLISHER_CONTEXT),  # noqa: B008
    ) -> None:
        """Record, claim and start sending a batch of learner e-mails."""
        notifier: NotifierGraph = graph
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
                    publisher, record, f"invalid payload ({exc.error_count()} errors)", group
                )
        events = [event for _, event in items]
        try:
            with _message_spans(notifier.tracer, email_topic, items) as origins:
                await notifier.intake.notification_requests(events, pipelined=True, origins=origins)
        except Exception as exc:
            _log.warning("notification batch failed, will be redelivered: %s", type(exc).__name__)
            await asyncio.sleep(consumer.retry_delay_s)
            raise


def create_router(settings: NotifierSettings) -> KafkaRouter:
    """Every consumer of the notifier, on one router (topics depend on the configured prefix)."""
    router = KafkaRouter()
    prefix = settings.consumer.group_prefix
    kafka = settings.kafka
    _notification_batches(router, settings)

    @consume_event(router, CredentialIssuedV1, settings=kafka, group_id=f"{prefix}.webhooks.issued")
    async def credential_issued(event: CredentialIssuedV1, graph: NotifierGraph) -> None:
        """Tell subscribed endpoints; schedule ``credential.expiring`` webhooks."""
        await graph.intake.credential_issued(event)

    @consume_event(
        router, CredentialStatusChangedV1, settings=kafka, group_id=f"{prefix}.webhooks.status"
    )
    async def credential_status_changed(
        event: CredentialStatusChangedV1, graph: NotifierGraph
    ) -> None:
        """Tell subscribed endpoints; a revoked or replaced credential gets no more reminders."""
        await graph.intake.credential_status_changed(event)

    @consume_event(
        router,
        VerificationCompletedV1,
        settings=kafka,
        group_id=f"{prefix}.webhooks.verification",
    )
    async def verification_completed(event: VerificationCompletedV1, graph: NotifierGraph) -> None:
        """Route a verification to the issuer's institution's endpoints."""
        await graph.intake.verification_completed(event)

    @consume_event(router, IssuerKeyPublishedV1, settings=kafka, group_id=f"{prefix}.issuer-dids")
    async def key_published(event: IssuerKeyPublishedV1, graph: NotifierGraph) -> None:
        """Learn which institution a DID belongs to."""
        await graph.intake.key_published(event)

    return router

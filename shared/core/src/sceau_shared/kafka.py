"""Kafka plumbing on FastStream: the broker factory, event publishing and safe subscribers.

Delivery rules every service gets from here:

* producers use ``acks=all`` and the idempotent producer, so an acknowledged send is durable and a
  producer retry does not write the message twice;
* messages are keyed by the event's aggregate id, so one entity's events keep their order;
* subscribers always name their consumer group and commit the offset only **after** the handler
  succeeded (``AckPolicy.NACK_ON_ERROR``: a failing handler rewinds to the message so it is
  retried);
* a handler that fails because a dependency is down or slow (:func:`sceau_shared.transient.
  is_transient`: MongoDB unreachable or timing out, a Kafka send not acknowledged) is retried
  without acknowledging the message, after a pause that doubles up to ``retry_max_backoff_s`` (with
  jitter, so replicas do not retry in step), for as long as the outage lasts: an outage never
  sends a good message to the dead-letter topic;
* a message that cannot be parsed goes at once, and one whose handler keeps failing for any
  other reason goes after ``max_attempts``, to ``<topic>.dlq`` as a
  :class:`~sceau_shared.events.DeadLetterV1` and is then acknowledged, so one poison message
  cannot block a partition forever.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Literal, TypeVar

import pymongo
from aiokafka import AIOKafkaProducer
from aiokafka.errors import InvalidProducerEpoch, OutOfOrderSequenceNumber, UnknownProducerId
from faststream import AckPolicy, Context
from faststream.kafka import KafkaBroker, KafkaMessage, KafkaRouter
from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware
from opentelemetry import trace
from opentelemetry.trace import SpanKind, TracerProvider
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from pydantic import ValidationError

from sceau_shared.compat.faststream import connected_producer, replace_producer
from sceau_shared.events import DeadLetterV1, Event, dead_letter_topic
from sceau_shared.settings import KafkaSettings
from sceau_shared.transient import is_transient

_log = logging.getLogger(__name__)

_FATAL_PRODUCER_ERRORS = (OutOfOrderSequenceNumber, UnknownProducerId, InvalidProducerEpoch)
_PROPAGATOR = TraceContextTextMapPropagator()

E = TypeVar("E", bound=Event)
Handler = Callable[[E], Awaitable[None]]


#: Bytes the producer gathers per partition before a batch is full (aiokafka's default: 16 KiB,
#: about a dozen events). An outbox relay hands hundreds of events over at once; every send past
#: a full batch waits for it to drain, and each drain woke them all to find it full again:
#: ``MessageBatch.wait_drain`` and ``add_message`` were a quarter of the issuer's main process
#: in a batch (py-spy). Below the broker's default 1 MiB message limit.
PRODUCER_BATCH_BYTES = 512 * 1024


def create_broker(
    settings: KafkaSettings,
    *,
    client_id: str,
    tracer_provider: TracerProvider | None = None,
) -> KafkaBroker:
    """Build (not connect) a broker with durable, idempotent producer settings and tracing."""
    middlewares = (KafkaTelemetryMiddleware(tracer_provider=tracer_provider),)
    return KafkaBroker(
        settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        max_batch_size=PRODUCER_BATCH_BYTES,
        request_timeout_ms=int(settings.request_timeout_s * 1000),
        middlewares=middlewares,
        logger=logging.getLogger(f"sceau.kafka.{client_id}"),
    )


class EventPublisher:
    """Publish events to their topics, keyed by aggregate id, waiting for the broker's ack."""

    def __init__(
        self,
        broker: KafkaBroker,
        settings: KafkaSettings,
        *,
        producer: str,
        tracer_provider: TracerProvider | None = None,
    ) -> None:
        self._broker = broker
        self._settings = settings
        self.producer = producer
        self._reset_lock = asyncio.Lock()
        self.producer_resets = 0
        self._tracer = trace.get_tracer(__name__, tracer_provider=tracer_provider)

    def topic_for(self, event_type: type[Event]) -> str:
        """Return the physical topic of an event class."""
        return self._settings.topic(event_type.TOPIC)

    async def publish(self, event: Event) -> None:
        """Send one event and return once the broker acknowledged it (``acks=all``)."""
        await self.publish_raw(
            topic=event.TOPIC,
            key=event.key,
            payload=event.to_bytes(),
            event_id=str(event.event_id),
            event_type=event.event_type,
        )

    async def publish_raw(
        self, *, topic: str, key: bytes, payload: bytes, event_id: str, event_type: str
    ) -> None:
        """Send an already serialised event (used by the outbox relay).

        Raises the broker's error when the send is not acknowledged; callers retry (the outbox
        relay does). After a broker restart aiokafka's idempotent producer can get stuck on
        ``OutOfOrderSequenceNumber`` for good, so on such fatal producer-state errors the producer
        is replaced before the error is raised, and the caller's retry goes through a fresh one.
        """
        physical = self._settings.topic(topic)
        headers = {
            "content-type": "application/json",
            "event-id": event_id,
            "event-type": event_type,
        }
        # Straight to aiokafka, as FastStream's publish does, without its per-message
        # middleware: for the outbox relays (two events per credential) it cost a tenth of the
        # issuer's main process in a batch (profiled). The PRODUCER span and the W3C headers
        # it carries are the ones FastStream's telemetry middleware made (same name and
        # attributes), so consumers continue the trace as before.
        with self._tracer.start_as_current_span(
            f"{physical} publish",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.destination.name": physical,
                "messaging.operation": "publish",
                "messaging.message.id": event_id,
                "messaging.kafka.message.key": key.decode("utf-8", "replace"),
            },
        ):
            _PROPAGATOR.inject(headers)
            producer = connected_producer(self._broker)
            try:
                if producer is None:
                    # Not connected yet, or being replaced: FastStream's own path and errors.
                    await self._broker.publish(payload, topic=physical, key=key, headers=headers)
                    return
                sent = await producer.send(
                    physical,
                    payload,
                    key=key,
                    headers=[(name, value.encode()) for name, value in headers.items()],
                )
                await sent
            except _FATAL_PRODUCER_ERRORS:
                await self._reset_producer()
                raise

    async def send_detached(self, event: Event) -> asyncio.Future[Any]:
        """Hand an event to the producer without waiting for the broker; return its future.

        For high-volume events no state depends on (``VerificationCompletedV1``: one per
        verification), where awaiting each acknowledgement and FastStream's per-message
        middleware cost a sixth of a cached verification's CPU (bench/verify.py profile). The
        record joins aiokafka's next batch, keyed like every event, with the current span's W3C
        trace context in its headers (FastStream's middleware would have put it there). The
        caller decides what a failure means: the future carries it.
        """
        headers = {
            "content-type": "application/json",
            "event-id": str(event.event_id),
            "event-type": event.event_type,
        }
        _PROPAGATOR.inject(headers)
        future: asyncio.Future[Any] = await self._producer().send(
            self._settings.topic(event.TOPIC),
            event.to_bytes(),
            key=event.key,
            headers=[(name, value.encode()) for name, value in headers.items()],
        )
        return future

    async def publish_physical(
        self, *, topic: str, key: bytes, payload: bytes, headers: dict[str, str]
    ) -> None:
        """Send bytes to a topic name used as is, without the configured prefix.

        For topics derived from a physical one (the dead-letter topic of a consumed record).
        """
        await self._broker.publish(payload, topic=topic, key=key, headers=headers)

    def _producer(self) -> AIOKafkaProducer:
        producer = connected_producer(self._broker)
        if producer is None:
            raise RuntimeError("the Kafka producer is not connected")
        return producer

    async def _reset_producer(self) -> None:
        async with self._reset_lock:
            # FastStream has no public "reconnect the producer" call (sceau_shared.compat).
            await replace_producer(self._broker)
            self.producer_resets += 1
            _log.warning("Kafka producer replaced after a fatal producer-state error")


async def send_dead_letter(
    publisher: EventPublisher,
    message: KafkaMessage,
    *,
    error: str,
    consumer_group: str,
) -> None:
    """Publish a message that can never be handled to ``<topic>.dlq``, keeping its bytes."""
    raw = message.raw_message
    record: Any = raw[0] if isinstance(raw, tuple) else raw
    await dead_letter_record(
        publisher, record, bytes(message.body), error=error, consumer_group=consumer_group
    )


async def dead_letter_record(
    publisher: EventPublisher,
    record: Any,
    payload: bytes,
    *,
    error: str,
    consumer_group: str,
) -> None:
    """Publish one Kafka record's ``payload`` to ``<its topic>.dlq`` (batch consumers too)."""
    original_topic = str(getattr(record, "topic", ""))
    key = getattr(record, "key", None)
    letter = DeadLetterV1(
        producer=publisher.producer,
        original_topic=original_topic,
        partition=getattr(record, "partition", None),
        offset=getattr(record, "offset", None),
        original_key=key.decode("utf-8", "replace") if isinstance(key, bytes) else None,
        payload=payload.decode("utf-8", "replace"),
        error=error[:2000],
        consumer_group=consumer_group,
    )
    # The DLQ topic is physical already (derived from the record's topic), so bypass the prefix.
    await publisher.publish_physical(
        topic=dead_letter_topic(original_topic),
        key=letter.key,
        payload=letter.to_bytes(),
        headers={"content-type": "application/json", "event-type": letter.event_type},
    )


GraphHandler = Callable[[E, Any], Awaitable[None]]

#: FastStream context keys the service skeleton sets before the broker starts.
GRAPH_CONTEXT = "graph"
PUBLISHER_CONTEXT = "publisher"


def backoff_s(attempt: int, *, base_s: float, cap_s: float, rng: random.Random) -> float:
    """The pause before retry ``attempt`` (1, 2, ...): doubling from ``base_s``, capped, jittered.

    The jitter keeps the upper half of the step ("equal jitter"): never less than half the
    doubled pause, so a long outage is not hammered, and never in step across replicas.
    """
    step = min(cap_s, base_s * 2.0 ** min(attempt - 1, 32))
    return step / 2 + rng.uniform(0, step / 2)


class _Delivery:
    """At-least-once delivery of one event type to one handler: parse, retry, dead-letter."""

    def __init__(
        self,
        event_type: type[Event],
        *,
        topic: str,
        group_id: str,
        max_attempts: int,
        retry_delay_s: float,
        max_backoff_s: float,
        deadline_s: float | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.event_type = event_type
        self.topic = topic
        self.group_id = group_id
        self.max_attempts = max_attempts
        self.retry_delay_s = retry_delay_s
        self.max_backoff_s = max_backoff_s
        self.deadline_s = deadline_s
        self._sleep = sleep
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret
        # Failures of the message at a (partition, offset): [poison attempts, transient attempts].
        self._attempts: dict[tuple[int, int], list[int]] = {}

    async def deliver(
        self,
        message: KafkaMessage,
        publisher: EventPublisher,
        call: Callable[[Event], Awaitable[None]],
    ) -> None:
        # Parse the raw bytes ourselves: a body FastStream cannot decode must still reach us so it
        # can be dead-lettered instead of failing before the handler.
        topic, group_id = self.topic, self.group_id
        try:
            event = self.event_type.model_validate_json(bytes(message.body))
        except ValidationError as exc:
            _log.warning("poison message on %s sent to DLQ: %s", topic, exc.error_count())
            await send_dead_letter(
                publisher, message, error=f"invalid payload: {exc}", consumer_group=group_id
            )
            return
        record: Any = message.raw_message
        position = (int(getattr(record, "partition", -1)), int(getattr(record, "offset", -1)))
        try:
            # A paused database would hold the handler (and the partition) with no answer:
            # under the deadline its calls fail as timeouts, which are retried like any outage.
            with pymongo.timeout(self.deadline_s):
                await call(event)
        except Exception as exc:
            counts = self._attempts.setdefault(position, [0, 0])
            if is_transient(exc):
                # A dependency is down: wait and let the message come again (NACK), however
                # long the outage lasts; it says nothing about the message itself.
                counts[1] += 1
                pause = backoff_s(
                    counts[1], base_s=self.retry_delay_s, cap_s=self.max_backoff_s, rng=self._rng
                )
                _log.warning(
                    "handler for %s met a transient failure (try %d, event %s, next in %.1f s): %s",
                    topic,
                    counts[1],
                    event.event_id,
                    pause,
                    type(exc).__name__,
                )
                await self._sleep(pause)
                raise
            counts[0] += 1
            if counts[0] < self.max_attempts:
                _log.warning(
                    "handler for %s failed (attempt %d/%d, event %s): %s",
                    topic,
                    counts[0],
                    self.max_attempts,
                    event.event_id,
                    type(exc).__name__,
                )
                await self._sleep(self.retry_delay_s * counts[0])
                raise
            _log.error(
                "event %s on %s dead-lettered after %d attempts", event.event_id, topic, counts[0]
            )
            # Acknowledged only once the letter is on the DLQ: a failed send rewinds as usual.
            await send_dead_letter(
                publisher, message, error=f"{type(exc).__name__}: {exc}", consumer_group=group_id
            )
            self._attempts.pop(position, None)
            return
        self._attempts.pop(position, None)

    def register(
        self,
        registrar: KafkaBroker | KafkaRouter,
        consume: Callable[..., Awaitable[None]],
        handler: Callable[..., Awaitable[None]],
        auto_offset_reset: Literal["latest", "earliest", "none"],
    ) -> None:
        # Not functools.wraps: FastStream reads the signature, and it must see ``consume``'s.
        consume.__name__ = getattr(handler, "__name__", "consume")
        consume.__doc__ = handler.__doc__
        registrar.subscriber(
            self.topic,
            group_id=self.group_id,
            ack_policy=AckPolicy.NACK_ON_ERROR,
            auto_offset_reset=auto_offset_reset,
        )(consume)


def subscribe_event(
    registrar: KafkaBroker | KafkaRouter,
    event_type: type[E],
    *,
    settings: KafkaSettings,
    group_id: str,
    publisher: EventPublisher,
    max_attempts: int = 5,
    retry_delay_s: float = 0.5,
    max_backoff_s: float | None = None,
    auto_offset_reset: Literal["latest", "earliest", "none"] = "earliest",
) -> Callable[[Handler[E]], Callable[..., Awaitable[None]]]:
    """Register ``handler(event)`` for ``event_type``'s topic with at-least-once semantics.

    The low-level form, for code that has its publisher at hand (tools, foundation tests);
    services declare their consumers with :func:`consume_event` instead. The handler must be
    idempotent on ``event.event_id`` (see ``sceau_shared.mongo.ProcessedEvents``): after a crash
    or a rebalance a message can be delivered again.
    """
    if not group_id:
        raise ValueError("subscribers must name their consumer group")
    delivery = _Delivery(
        event_type,
        topic=settings.topic(event_type.TOPIC),
        group_id=settings.group(group_id),
        max_attempts=max_attempts,
        retry_delay_s=retry_delay_s,
        max_backoff_s=max_backoff_s or settings.retry_max_backoff_s,
        deadline_s=settings.handler_deadline_s,
    )

    def decorator(handler: Handler[E]) -> Callable[..., Awaitable[None]]:
        async def consume(message: KafkaMessage) -> None:
            await delivery.deliver(message, publisher, handler)  # type: ignore[arg-type]

        delivery.register(registrar, consume, handler, auto_offset_reset)
        return consume

    return decorator


def consume_event(
    router: KafkaRouter,
    event_type: type[E],
    *,
    settings: KafkaSettings,
    group_id: str,
    max_attempts: int = 5,
    retry_delay_s: float = 0.5,
    max_backoff_s: float | None = None,
    auto_offset_reset: Literal["latest", "earliest", "none"] = "earliest",
) -> Callable[[GraphHandler[E]], Callable[..., Awaitable[None]]]:
    """Declare ``handler(event, graph)`` on a service's consumer router (the one way services do).

    The service's object graph and its event publisher reach the handler through FastStream's
    context (``graph`` and ``publisher``, set by :func:`sceau_shared.service.create_service_app`
    before the broker starts), so a consumer never runs before what it calls exists, and an
    in-memory ``TestKafkaBroker`` test can hand it a fake graph. Delivery is the same as
    :func:`subscribe_event`: commit after success, retry, dead-letter poison messages.
    """
    if not group_id:
        raise ValueError("subscribers must name their consumer group")
    delivery = _Delivery(
        event_type,
        topic=settings.topic(event_type.TOPIC),
        group_id=settings.group(group_id),
        max_attempts=max_attempts,
        retry_delay_s=retry_delay_s,
        max_backoff_s=max_backoff_s or settings.retry_max_backoff_s,
        deadline_s=settings.handler_deadline_s,
    )

    def decorator(handler: GraphHandler[E]) -> Callable[..., Awaitable[None]]:
        async def consume(
            message: KafkaMessage,
            graph: Any = Context(GRAPH_CONTEXT),  # noqa: B008 - FastStream's injection marker
            publisher: Any = Context(PUBLISHER_CONTEXT),  # noqa: B008
        ) -> None:
            async def call(event: Event) -> None:
                await handler(event, graph)  # type: ignore[arg-type]

            await delivery.deliver(message, publisher, call)

        delivery.register(router, consume, handler, auto_offset_reset)
        return consume

    return decorator


def subscribe_batches(
    router: KafkaRouter,
    topic: str,
    *,
    group_id: str,
    max_records: int,
    batch_timeout_ms: int,
) -> Callable[[Callable[..., Awaitable[None]]], Any]:
    """Declare a batch subscriber (the handler gets up to ``max_records`` records at once).

    Same commit rule as :func:`consume_event`: the batch's offsets are committed only after the
    handler returned, and a handler that raises has the batch delivered again from its first
    record. Parsing, retries and dead letters are the handler's (its events are its own): the
    handler's body argument is ``None``, it reads ``message.raw_message``.
    """
    return router.subscriber(
        topic,
        group_id=group_id,
        batch=True,
        max_records=max_records,
        batch_timeout_ms=batch_timeout_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        decoder=_left_undecoded,
    )


async def _left_undecoded(message: Any) -> None:
    """Leave a batch undecoded: its handler parses the raw records (and dead-letters bad ones).

    FastStream's own decoding (a KafkaMessage and a JSON parse per record) was thrown away.
    """
    del message


async def ping_broker(broker: KafkaBroker, *, timeout_s: float) -> None:
    """Raise ``ConnectionError`` when the broker does not answer within ``timeout_s``."""
    if not await broker.ping(timeout=timeout_s):
        raise ConnectionError("Kafka broker did not answer")

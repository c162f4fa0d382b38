"""Kafka consumers: tenants, accreditations, share openings, the learner contact index, insights.

Three subscriptions see one event per credential, so they are consumed in batches: the learner
contact index (the issuer's own "issued" e-mail requests), the insights' ``issued`` counter, and
the insights' status changes (a batch revocation sends one per credential). A batch costs one
database insert (for the insights' ``issued``: plus one counter update per cell) and one offset
commit, instead of a few commands, a commit and FastStream's per-message work for each
credential (issue 19: a sixth of the issuer's CPU per single issue went to the contact consumer
alone). ``consume_event`` delivers one event at a time, so these subscribers are
declared on the router directly (:class:`EventBatches`), with the same delivery rules: offsets
committed after the batch is handled, outages waited out, a bad payload or an event that keeps
failing alone dead-lettered. The other events use ``consume_event``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from faststream import Context
from faststream.kafka import KafkaMessage, KafkaRouter
from pydantic import ValidationError

from sceau_issuer.graph import IssuerGraph
from sceau_issuer.settings import IssuerSettings
from sceau_shared.events import (
    AccreditationChangedV1,
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    Event,
    InstitutionRegisteredV1,
    NotificationRequestedV1,
    ShareOpenedV1,
    VerificationCompletedV1,
)
from sceau_shared.kafka import (
    GRAPH_CONTEXT,
    PUBLISHER_CONTEXT,
    backoff_s,
    consume_event,
    dead_letter_record,
    subscribe_batches,
)
from sceau_shared.transient import is_transient

_log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)

#: Notification requests indexed together at most, and how long a batch waits to fill (ms).
CONTACT_BATCH = 500
CONTACT_BATCH_WAIT_MS = 50
#: After a batch that was not full, the consumer pauses so that the next one gathers more: the
#: relay publishes a group of single issues at a time (a few credentials), and each batch costs
#: FastStream's work, a span and an offset commit whatever its size. The index is only read by
#: "send me a new link", so a second of delay is of no consequence. 1 s instead of 0.2 s: batches
#: five times bigger at ~250 single issues/s; issuer CPU per credential 4.78 -> 4.64 ms, Kafka
#: 0.35 -> 0.28, throughput x1.05 and x1.04 (two A/B runs, docs/benchmarks.md, issue 19).
CONTACT_BATCH_PAUSE_S = 1.0
#: Tries of an event that fails alone (not an outage) before it is dead-lettered.
CONTACT_MAX_ATTEMPTS = 5
CONTACT_RETRY_DELAY_S = 0.5

#: Issued events counted together at most by the insights, and how long a batch waits to fill.
INSIGHTS_BATCH = 500
INSIGHTS_BATCH_WAIT_MS = 50
#: As for the contacts: the report is read by people, a second late is harmless.
INSIGHTS_BATCH_PAUSE_S = 1.0


class EventBatches(Generic[E]):
    """At-least-once handling of batches of one event type (subclasses say what to do).

    Offsets are committed after :meth:`deliver` returns; it raises to have the batch delivered
    again. A bad payload is dead-lettered at once; an outage (a transient error) is waited out
    with a growing pause; a batch that fails for good is redone one event at a time, so that
    only the event that keeps failing is dead-lettered, after ``CONTACT_MAX_ATTEMPTS`` tries.
    """

    event_type: type[E]
    group_name: str
    purpose: str
    batch_size: int
    pause_s: float

    def __init__(
        self,
        settings: IssuerSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sleep = sleep
        self.group = settings.kafka.group(self.group_name)
        self.topic = settings.kafka.topic(self.event_type.TOPIC)
        self._deadline_s = settings.kafka.handler_deadline_s
        self._max_backoff_s = settings.kafka.retry_max_backoff_s
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret
        self._outages = 0
        # Failures (not outages) of the record at a (partition, offset), handled alone.
        self._failures: dict[tuple[int, int], int] = {}

    async def apply(self, graph: IssuerGraph, events: list[E], *, deadline_s: float) -> None:
        """Handle parsed events (idempotently: a batch may be delivered again)."""
        raise NotImplementedError

    async def deliver(self, message: KafkaMessage, graph: IssuerGraph, publisher: Any) -> None:
        """Handle a batch; raise to have it delivered again (offsets are committed after)."""
        raw: Any = message.raw_message
        items: list[tuple[Any, E]] = []
        for record in raw if isinstance(raw, tuple | list) else (raw,):
            payload = bytes(record.value or b"")
            try:
                items.append((record, self.event_type.model_validate_json(payload)))
            except ValidationError as exc:
                # Never log the payload: it may hold an address.
                _log.warning("poison message on %s sent to DLQ", self.topic)
                await dead_letter_record(
                    publisher,
                    record,
                    payload,
                    error=f"invalid payload ({exc.error_count()} errors)",
                    consumer_group=self.group,
                )
        try:
            await self.apply(graph, [event for _, event in items], deadline_s=self._deadline_s)
        except Exception as exc:
            if is_transient(exc):
                await self._wait_out(exc)
                raise
            # Something in the batch fails for good: find it, one event at a time.
            await self._one_by_one(graph, publisher, items)
        self._outages = 0
        if len(items) < self.batch_size:
            await self._sleep(self.pause_s)

    async def _wait_out(self, exc: BaseException) -> None:
        self._outages += 1
        pause = backoff_s(
            self._outages, base_s=CONTACT_RETRY_DELAY_S, cap_s=self._max_backoff_s, rng=self._rng
        )
        _log.warning(
            "%s met a transient failure (try %d, next in %.1f s): %s",
            self.purpose,
            self._outages,
            pause,
            type(exc).__name__,
        )
        await self._sleep(pause)

    async def _one_by_one(
        self, graph: IssuerGraph, publisher: Any, items: list[tuple[Any, E]]
    ) -> None:
        for record, event in items:
            position = (int(getattr(record, "partition", -1)), int(getattr(record, "offset", -1)))
            try:
                await self.apply(graph, [event], deadline_s=self._deadline_s)
            except Exception as exc:
                if is_transient(exc):
                    await self._wait_out(exc)
                    raise
                failures = self._failures[position] = self._failures.get(position, 0) + 1
                if failures < CONTACT_MAX_ATTEMPTS:
                    _log.warning(
                        "%s failed (attempt %d/%d, event %s): %s",
                        self.purpose,
                        failures,
                        CONTACT_MAX_ATTEMPTS,
                        event.event_id,
                        type(exc).__name__,
                    )
                    await self._sleep(CONTACT_RETRY_DELAY_S * failures)
                    raise
                _log.error("event %s on %s dead-lettered", event.event_id, self.topic)
                await dead_letter_record(
                    publisher,
                    record,
                    bytes(record.value or b""),
                    error=f"{type(exc).__name__}: {exc}",
                    consumer_group=self.group,
                )
            self._failures.pop(position, None)


class ContactBatches(EventBatches[NotificationRequestedV1]):
    """At-least-once indexing of batches of notification requests (the issuer's contact index)."""

    event_type = NotificationRequestedV1
    group_name = "issuer.learner-contacts"
    purpose = "contact index"
    batch_size = CONTACT_BATCH
    pause_s = CONTACT_BATCH_PAUSE_S

    async def apply(
        self, graph: IssuerGraph, events: list[NotificationRequestedV1], *, deadline_s: float
    ) -> None:
        # A paused database fails the call as a timeout (an outage) instead of holding it.
        await graph.learners.index_contacts(events, deadline_s=deadline_s)


class IssuedInsightsBatches(EventBatches[CredentialIssuedV1]):
    """At-least-once counting of batches of issued credentials (the insights' ``issued``)."""

    event_type = CredentialIssuedV1
    group_name = "issuer.insights-issued"
    purpose = "insights (issued)"
    batch_size = INSIGHTS_BATCH
    pause_s = INSIGHTS_BATCH_PAUSE_S

    async def apply(
        self, graph: IssuerGraph, events: list[CredentialIssuedV1], *, deadline_s: float
    ) -> None:
        # A paused database fails the batch as a timeout (an outage) instead of holding it.
        async with asyncio.timeout(deadline_s):
            await graph.insights.credentials_issued(events)


class StatusInsightsBatches(EventBatches[CredentialStatusChangedV1]):
    """At-least-once counting of revocations, a batch of status changes at a time.

    A batch revocation or a run of re-issues sends many: one offset commit and one FastStream
    pass per batch; each revocation is still counted by its own conditional mark (idempotent).
    """

    event_type = CredentialStatusChangedV1
    group_name = "issuer.insights-status"
    purpose = "insights (status)"
    batch_size = INSIGHTS_BATCH
    pause_s = INSIGHTS_BATCH_PAUSE_S

    async def apply(
        self, graph: IssuerGraph, events: list[CredentialStatusChangedV1], *, deadline_s: float
    ) -> None:
        async with asyncio.timeout(deadline_s):
            for event in events:
                await graph.insights.status_changed(event)


def _subscribe(router: KafkaRouter, batches: EventBatches[Any], *, wait_ms: int) -> None:
    @subscribe_batches(
        router,
        batches.topic,
        group_id=batches.group,
        max_records=batches.batch_size,
        batch_timeout_ms=wait_ms,
    )
    async def on_batch(
        body: Any,
        message: KafkaMessage,
        # Typed Any: FastStream would otherwise validate the injected objects against the types.
        graph: Any = Context(GRAPH_CONTEXT),  # noqa: B008 - FastStream's injection marker
        publisher: Any = Context(PUBLISHER_CONTEXT),  # noqa: B008
    ) -> None:
        # ``body`` is FastStream's decoded copy; the raw records are parsed here, so a bad
        # payload (which may hold an address) never reaches FastStream's error logging.
        del body
        await batches.deliver(message, graph, publisher)


def create_router(settings: IssuerSettings) -> KafkaRouter:
    """The issuer's consumers (topic names follow the configured prefix)."""
    router = KafkaRouter()

    @consume_event(
        router, InstitutionRegisteredV1, settings=settings.kafka, group_id="issuer.tenants"
    )
    async def on_registered(event: InstitutionRegisteredV1, graph: IssuerGraph) -> None:
        # Idempotent: a redelivered announcement finds the tenant and changes nothing.
        await graph.tenants.register(event)

    @consume_event(
        router, AccreditationChangedV1, settings=settings.kafka, group_id="issuer.accreditation"
    )
    async def on_accreditation(event: AccreditationChangedV1, graph: IssuerGraph) -> None:
        # Idempotent: the newest event (status + full scope set) wins; a replay or a late
        # older event changes nothing. Stored even before the tenant exists.
        await graph.tenants.apply_accreditation(event)

    @consume_event(router, ShareOpenedV1, settings=settings.kafka, group_id="issuer.share-receipts")
    async def on_share_opened(event: ShareOpenedV1, graph: IssuerGraph) -> None:
        # Idempotent: the receipt is keyed by the event id, so a redelivery counts nothing.
        await graph.learners.record_opening(event)

    # The issuer's own "issued" e-mail requests, behind "send me a new link" (single and batch
    # issuing alike, off the issuing path; idempotent).
    _subscribe(router, ContactBatches(settings), wait_ms=CONTACT_BATCH_WAIT_MS)

    # Insights (aggregate counters): each fact is counted once per credential, each verification
    # once per event, so a redelivery changes nothing (insights/repository.py).
    # One per credential issued: in batches (one insert and one update per cell, not five
    # commands per credential).
    _subscribe(router, IssuedInsightsBatches(settings), wait_ms=INSIGHTS_BATCH_WAIT_MS)

    _subscribe(router, StatusInsightsBatches(settings), wait_ms=INSIGHTS_BATCH_WAIT_MS)

    @consume_event(
        router,
        VerificationCompletedV1,
        settings=settings.kafka,
        group_id="issuer.insights-verifications",
    )
    async def on_verified(event: VerificationCompletedV1, graph: IssuerGraph) -> None:
        await graph.insights.verification(event)

    return router

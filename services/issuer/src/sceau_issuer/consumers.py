"""Kafka consumers: tenants, accreditations, share openings, the learner contact index, insights.

The contact index reads the issuer's own "issued" e-mail requests, one per credential issued, so
it is consumed in batches: one database insert and one offset commit for a batch instead of two
commands, a commit and FastStream's per-message work for each credential (issue 19: a sixth of
the issuer's CPU per single issue went to this consumer). ``consume_event`` delivers one event
at a time, so this subscriber is declared on the router directly, with the same delivery rules:
offsets committed after the batch is indexed, outages waited out, a bad payload or an event that
keeps failing alone dead-lettered. The other events use ``consume_event``.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import Context
from faststream.kafka import KafkaMessage, KafkaRouter
from pydantic import ValidationError

from sceau_issuer.graph import IssuerGraph
from sceau_issuer.settings import IssuerSettings
from sceau_shared.events import (
    AccreditationChangedV1,
    CredentialIssuedV1,
    CredentialStatusChangedV1,
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

#: Notification requests indexed together at most, and how long a batch waits to fill (ms).
CONTACT_BATCH = 500
CONTACT_BATCH_WAIT_MS = 50
#: After a batch that was not full, the consumer pauses so that the next one gathers more: the
#: relay publishes a group of single issues at a time (a few credentials), and each batch costs
#: FastStream's work, a span and an offset commit whatever its size. The index is only read by
#: "send me a new link", so a fraction of a second of delay is of no consequence.
CONTACT_BATCH_PAUSE_S = 0.2
#: Tries of an event that fails alone (not an outage) before it is dead-lettered.
CONTACT_MAX_ATTEMPTS = 5
CONTACT_RETRY_DELAY_S = 0.5

Indexed = list[tuple[Any, NotificationRequestedV1]]


class ContactBatches:
    """At-least-once indexing of batches of notification requests (the issuer's contact index)."""

    def __init__(
        self,
        settings: IssuerSettings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._sleep = sleep
        self.group = settings.kafka.group("issuer.learner-contacts")
        self.topic = settings.kafka.topic(NotificationRequestedV1.TOPIC)
        self._deadline_s = settings.kafka.handler_deadline_s
        self._max_backoff_s = settings.kafka.retry_max_backoff_s
        self._rng = random.Random()  # noqa: S311 - jitter, not a secret
        self._outages = 0
        # Failures (not outages) of the record at a (partition, offset), handled alone.
        self._failures: dict[tuple[int, int], int] = {}

    async def deliver(self, message: KafkaMessage, graph: IssuerGraph, publisher: Any) -> None:
        """Index a batch; raise to have it delivered again (offsets are committed after)."""
        raw: Any = message.raw_message
        items: Indexed = []
        for record in raw if isinstance(raw, tuple | list) else (raw,):
            payload = bytes(record.value or b"")
            try:
                items.append((record, NotificationRequestedV1.model_validate_json(payload)))
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
            await self._index(graph, [event for _, event in items])
        except Exception as exc:
            if is_transient(exc):
                await self._wait_out(exc)
                raise
            # Something in the batch fails for good: find it, one event at a time.
            await self._one_by_one(graph, publisher, items)
        self._outages = 0
        if len(items) < CONTACT_BATCH:
            await self._sleep(CONTACT_BATCH_PAUSE_S)

    async def _index(self, graph: IssuerGraph, events: list[NotificationRequestedV1]) -> None:
        # A paused database fails the call as a timeout (an outage) instead of holding it.
        await graph.learners.index_contacts(events, deadline_s=self._deadline_s)

    async def _wait_out(self, exc: BaseException) -> None:
        self._outages += 1
        pause = backoff_s(
            self._outages, base_s=CONTACT_RETRY_DELAY_S, cap_s=self._max_backoff_s, rng=self._rng
        )
        _log.warning(
            "contact index met a transient failure (try %d, next in %.1f s): %s",
            self._outages,
            pause,
            type(exc).__name__,
        )
        await self._sleep(pause)

    async def _one_by_one(self, graph: IssuerGraph, publisher: Any, items: Indexed) -> None:
        for record, event in items:
            position = (int(getattr(record, "partition", -1)), int(getattr(record, "offset", -1)))
            try:
                await self._index(graph, [event])
            except Exception as exc:
                if is_transient(exc):
                    await self._wait_out(exc)
                    raise
                failures = self._failures[position] = self._failures.get(position, 0) + 1
                if failures < CONTACT_MAX_ATTEMPTS:
                    _log.warning(
                        "contact index failed (attempt %d/%d, event %s): %s",
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


def _contact_batches(router: KafkaRouter, settings: IssuerSettings) -> None:
    batches = ContactBatches(settings)

    @subscribe_batches(
        router,
        batches.topic,
        group_id=batches.group,
        max_records=CONTACT_BATCH,
        batch_timeout_ms=CONTACT_BATCH_WAIT_MS,
    )
    async def on_issued_notifications(
        body: Any,
        message: KafkaMessage,
        # Typed Any: FastStream would otherwise validate the injected objects against the types.
        graph: Any = Context(GRAPH_CONTEXT),  # noqa: B008 - FastStream's injection marker
        publisher: Any = Context(PUBLISHER_CONTEXT),  # noqa: B008
    ) -> None:
        """Index the issuer's own "issued" e-mail requests behind "send me a new link".

        Single and batch issuing alike, off the issuing path; idempotent.
        """
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

    _contact_batches(router, settings)

    # Insights (aggregate counters): each fact is counted once per credential, each verification
    # once per event, so a redelivery changes nothing (insights/repository.py).
    @consume_event(
        router, CredentialIssuedV1, settings=settings.kafka, group_id="issuer.insights-issued"
    )
    async def on_issued(event: CredentialIssuedV1, graph: IssuerGraph) -> None:
        await graph.insights.credential_issued(event)

    @consume_event(
        router,
        CredentialStatusChangedV1,
        settings=settings.kafka,
        group_id="issuer.insights-status",
    )
    async def on_status(event: CredentialStatusChangedV1, graph: IssuerGraph) -> None:
        await graph.insights.status_changed(event)

    @consume_event(
        router,
        VerificationCompletedV1,
        settings=settings.kafka,
        group_id="issuer.insights-verifications",
    )
    async def on_verified(event: VerificationCompletedV1, graph: IssuerGraph) -> None:
        await graph.insights.verification(event)

    return router

"""Kafka consumers that keep the verifier's caches honest.

* ``StatusListPublishedV1`` — the issuer re-signed a status list (a revocation, a suspension):
  the cached list is replaced by the one in the event, so the next verification sees the change
  without waiting for the list's ``ttl``; every kept answer is dropped (share pages and
  ``POST /v1/verify``: ``kept_answers.py``).
* ``AccreditationChangedV1`` — the registry changed an institution's status or scope: every
  cached trust answer about its DIDs is dropped, and every kept answer.
* ``IssuerKeyPublishedV1`` — an institution's key was added, rotated or revoked: the trust
  answers and the did:web document about its DID are dropped (and not kept for a few seconds,
  while the registry applies the same event), and every kept answer. A key revoked as
  compromised stops verifying within seconds, not at the caches' TTL.

Each verifier process must see *every* event (each one holds its own caches), so the consumer
groups get a per-process suffix instead of being shared by the replicas; a new process starts at
``invalidation_offset_reset`` (``latest`` by default: its caches are empty). Both handlers are
idempotent by nature (dropping or replacing a cache entry twice changes nothing, and an older
list version never replaces a newer one), so no processed-events bookkeeping is needed.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import TypeVar

from faststream.kafka import KafkaRouter

from sceau_shared.events import (
    AccreditationChangedV1,
    Event,
    IssuerKeyPublishedV1,
    StatusListPublishedV1,
)
from sceau_shared.kafka import GraphHandler, consume_event
from sceau_verifier.graph import VerifierGraph
from sceau_verifier.settings import VerifierSettings

__all__ = [
    "accreditation_changed",
    "create_router",
    "key_published",
    "process_group",
    "status_list_published",
]

_log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)


def process_group(prefix: str) -> str:
    """A consumer group unique to this process, so every replica receives every event."""
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


async def status_list_published(event: StatusListPublishedV1, graph: VerifierGraph) -> None:
    """Replace the cached list with the newly published version; drop kept answers."""
    stored = graph.status_lists.publish(
        event.list_url, event.credential, version=event.version, ttl_ms=event.ttl_ms
    )
    if stored:
        graph.forget_answers()
    _log.info(
        "status list %s v%d published (%s)",
        event.list_id,
        event.version,
        "cached" if stored else "older than cached, ignored",
    )


async def accreditation_changed(event: AccreditationChangedV1, graph: VerifierGraph) -> None:
    """Forget what the registry said about the institution's DIDs, and kept answers."""
    dropped = graph.registry.invalidate(event.dids, institution_id=event.institution_id)
    graph.forget_answers()
    _log.info(
        "accreditation of %s changed to %s: %d trust answers dropped",
        event.institution_id,
        event.status.value,
        dropped,
    )


async def key_published(event: IssuerKeyPublishedV1, graph: VerifierGraph) -> None:
    """Forget what was cached about the DID whose keys changed (answers, document, shares)."""
    dropped = graph.registry.invalidate([event.did], settle=True)
    if graph.did_web is not None:
        graph.did_web.forget(event.did)
    graph.forget_answers()
    _log.info(
        "key %s of %s %s: %d trust answers dropped",
        event.verification_method,
        event.institution_id,
        event.action.value,
        dropped,
    )


def create_router(settings: VerifierSettings) -> KafkaRouter:
    """The invalidation consumers, with consumer groups unique to this process.

    A random suffix per process means a restart joins a new group; the broker forgets the old,
    empty groups after its offset retention period, and the new process starts with empty
    caches anyway.
    """
    router = KafkaRouter()

    def per_process(event_type: type[E], group: str) -> Callable[[GraphHandler[E]], object]:
        return consume_event(
            router,
            event_type,
            settings=settings.kafka,
            group_id=process_group(group),
            auto_offset_reset=settings.invalidation_offset_reset,
        )

    per_process(StatusListPublishedV1, settings.status_cache_group)(status_list_published)
    per_process(AccreditationChangedV1, settings.trust_cache_group)(accreditation_changed)
    per_process(IssuerKeyPublishedV1, settings.key_cache_group)(key_published)
    return router

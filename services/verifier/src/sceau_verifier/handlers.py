"""Kafka subscribers that keep the verifier's caches honest.

* ``StatusListPublishedV1`` — the issuer re-signed a status list (a revocation, a suspension):
  the cached list is replaced by the one in the event, so the next verification sees the change
  without waiting for the list's ``ttl``.
* ``AccreditationChangedV1`` — the registry changed an institution's status or scope: every
  cached trust answer about its DIDs is dropped.

Each verifier process must see *every* event (each one holds its own caches), so the consumer
groups get a per-process suffix instead of being shared by the replicas. Both handlers are
idempotent by nature (dropping or replacing a cache entry twice changes nothing, and an older
list version never replaces a newer one), so no processed-events bookkeeping is needed.
"""

from __future__ import annotations

import logging
import uuid
from typing import Literal

from faststream.kafka import KafkaBroker

from sceau_shared.events import AccreditationChangedV1, StatusListPublishedV1
from sceau_shared.kafka import EventPublisher, subscribe_event
from sceau_shared.settings import KafkaSettings
from sceau_verifier.registry import RegistryClient
from sceau_verifier.status_lists import StatusListCache

__all__ = ["CacheInvalidation", "process_group"]

_log = logging.getLogger(__name__)


def process_group(prefix: str) -> str:
    """A consumer group unique to this process, so every replica receives every event."""
    return f"{prefix}.{uuid.uuid4().hex[:12]}"


class CacheInvalidation:
    """Applies cache-invalidation events to one process's caches.

    Args:
        status_lists: the status list cache.
        registry: the trust answer cache.
    """

    def __init__(self, status_lists: StatusListCache, registry: RegistryClient) -> None:
        self._status_lists = status_lists
        self._registry = registry

    async def on_status_list_published(self, event: StatusListPublishedV1) -> None:
        """Replace the cached list with the newly published version."""
        stored = self._status_lists.publish(
            event.list_url, event.credential, version=event.version, ttl_ms=event.ttl_ms
        )
        _log.info(
            "status list %s v%d published (%s)",
            event.list_id,
            event.version,
            "cached" if stored else "older than cached, ignored",
        )

    async def on_accreditation_changed(self, event: AccreditationChangedV1) -> None:
        """Forget what the registry said about the institution's DIDs."""
        dropped = self._registry.invalidate(event.dids, institution_id=event.institution_id)
        _log.info(
            "accreditation of %s changed to %s: %d trust answers dropped",
            event.institution_id,
            event.status.value,
            dropped,
        )

    def register(
        self,
        broker: KafkaBroker,
        publisher: EventPublisher,
        *,
        settings: KafkaSettings,
        status_group: str,
        trust_group: str,
        offset_reset: Literal["latest", "earliest"],
    ) -> None:
        """Subscribe both handlers with per-process consumer groups.

        A random suffix per process means a restart joins a new group; the broker forgets the
        old, empty groups after its offset retention period, and the new process starts with
        empty caches anyway.
        """
        subscribe_event(
            broker,
            StatusListPublishedV1,
            settings=settings,
            group_id=process_group(status_group),
            publisher=publisher,
            auto_offset_reset=offset_reset,
        )(self.on_status_list_published)
        subscribe_event(
            broker,
            AccreditationChangedV1,
            settings=settings,
            group_id=process_group(trust_group),
            publisher=publisher,
            auto_offset_reset=offset_reset,
        )(self.on_accreditation_changed)

"""Kafka consumers of the registry: the issuer's key events and its status list publications.

Each handler has its own consumer group, so a slow status list store never holds key events back.
Both are idempotent (see :mod:`sceau_registry.keys.service` and
:mod:`sceau_registry.status_lists.service`): at-least-once delivery and replays from the start
change nothing.
"""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from sceau_registry.graph import RegistryGraph
from sceau_registry.settings import RegistrySettings
from sceau_shared.events import IssuerKeyPublishedV1, StatusListPublishedV1
from sceau_shared.kafka import consume_event

__all__ = ["KEYS_GROUP", "STATUS_LISTS_GROUP", "create_router"]

KEYS_GROUP = "registry.keys"
STATUS_LISTS_GROUP = "registry.status-lists"


def create_router(settings: RegistrySettings) -> KafkaRouter:
    """The registry's consumers (topic names depend on the configured prefix)."""
    router = KafkaRouter()

    @consume_event(router, IssuerKeyPublishedV1, settings=settings.kafka, group_id=KEYS_GROUP)
    async def on_key_published(event: IssuerKeyPublishedV1, graph: RegistryGraph) -> None:
        """Record the key's validity window and link its DID to the institution."""
        await graph.key_ingest.handle(event)

    @consume_event(
        router, StatusListPublishedV1, settings=settings.kafka, group_id=STATUS_LISTS_GROUP
    )
    async def on_status_list_published(event: StatusListPublishedV1, graph: RegistryGraph) -> None:
        """Keep the list's bytes if this version is newer than the stored one."""
        await graph.status_lists.publish(event)

    return router

"""FastStream subscribers of the registry: issuer key events and status list publications.

Subscribers are registered before the broker starts, which is before the service's components
exist (they need the MongoDB database the runtime opens). Each handler therefore waits for the
components through a :class:`ComponentsGate` that the lifespan opens once they are built.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from faststream.kafka import KafkaBroker

from sceau_shared.events import IssuerKeyPublishedV1, StatusListPublishedV1
from sceau_shared.kafka import EventPublisher, subscribe_event
from sceau_shared.settings import KafkaSettings

if TYPE_CHECKING:
    from sceau_registry.components import Components

KEYS_GROUP = "registry.keys"
STATUS_LISTS_GROUP = "registry.status-lists"


class ComponentsGate:
    """Hands the built components to handlers that started before they existed."""

    def __init__(self, *, timeout_s: float = 30.0) -> None:
        self._ready = asyncio.Event()
        self._components: Components | None = None
        self._timeout_s = timeout_s

    def open(self, components: Components) -> None:
        """Make the components available."""
        self._components = components
        self._ready.set()

    async def get(self) -> Components:
        """Wait for the components (a handler failing here is retried by the subscriber)."""
        await asyncio.wait_for(self._ready.wait(), timeout=self._timeout_s)
        assert self._components is not None  # noqa: S101 - set before the event
        return self._components


def register_subscribers(
    broker: KafkaBroker,
    publisher: EventPublisher,
    *,
    kafka: KafkaSettings,
    gate: ComponentsGate,
) -> None:
    """Subscribe the registry's handlers (each in its own consumer group)."""

    @subscribe_event(
        broker, IssuerKeyPublishedV1, settings=kafka, group_id=KEYS_GROUP, publisher=publisher
    )
    async def on_key_published(event: IssuerKeyPublishedV1) -> None:
        components = await gate.get()
        await components.key_ingest.handle(event)

    @subscribe_event(
        broker,
        StatusListPublishedV1,
        settings=kafka,
        group_id=STATUS_LISTS_GROUP,
        publisher=publisher,
    )
    async def on_status_list_published(event: StatusListPublishedV1) -> None:
        components = await gate.get()
        await components.status_lists.publish(event)

"""Kafka subscribers: institutions announced by the registry become tenants; accreditations."""

from __future__ import annotations

from collections.abc import Callable

from faststream.kafka import KafkaBroker

from sceau_issuer.settings import IssuerSettings
from sceau_issuer.tenants.service import TenantService
from sceau_shared.events import AccreditationChangedV1, InstitutionRegisteredV1
from sceau_shared.kafka import EventPublisher, subscribe_event


def register_subscribers(
    settings: IssuerSettings, tenants: Callable[[], TenantService]
) -> Callable[[KafkaBroker, EventPublisher], None]:
    """Return the ``register_subscribers`` callback for ``open_runtime``.

    ``tenants`` is looked up at delivery time because the service graph is built after the
    broker (it needs the runtime's database).
    """

    def register(broker: KafkaBroker, publisher: EventPublisher) -> None:
        @subscribe_event(
            broker,
            InstitutionRegisteredV1,
            settings=settings.kafka,
            group_id="issuer.tenants",
            publisher=publisher,
        )
        async def on_registered(event: InstitutionRegisteredV1) -> None:
            # Idempotent: a redelivered announcement finds the tenant and changes nothing.
            await tenants().register(event)

        @subscribe_event(
            broker,
            AccreditationChangedV1,
            settings=settings.kafka,
            group_id="issuer.accreditation",
            publisher=publisher,
        )
        async def on_accreditation(event: AccreditationChangedV1) -> None:
            # Idempotent: the newest event (status + full scope set) wins; a replay or a late
            # older event changes nothing. Stored even before the tenant exists.
            await tenants().apply_accreditation(event)

    return register

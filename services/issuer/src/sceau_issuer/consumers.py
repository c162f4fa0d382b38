"""Kafka consumers: institutions announced by the registry become tenants; accreditations."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

from sceau_issuer.graph import IssuerGraph
from sceau_issuer.settings import IssuerSettings
from sceau_shared.events import AccreditationChangedV1, InstitutionRegisteredV1
from sceau_shared.kafka import consume_event


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

    return router

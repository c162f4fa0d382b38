"""Kafka consumers: tenants, accreditations, share openings, the learner contact index, insights."""

from __future__ import annotations

from faststream.kafka import KafkaRouter

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

    @consume_event(router, ShareOpenedV1, settings=settings.kafka, group_id="issuer.share-receipts")
    async def on_share_opened(event: ShareOpenedV1, graph: IssuerGraph) -> None:
        # Idempotent: the receipt is keyed by the event id, so a redelivery counts nothing.
        await graph.learners.record_opening(event)

    @consume_event(
        router,
        NotificationRequestedV1,
        settings=settings.kafka,
        group_id="issuer.learner-contacts",
    )
    async def on_issued_notification(event: NotificationRequestedV1, graph: IssuerGraph) -> None:
        # The issuer's own "issued" e-mail requests (single and batch issuing alike) feed the
        # hashed-address index behind "send me a new link", off the issuing path. Idempotent.
        await graph.learners.index_contact(event)

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

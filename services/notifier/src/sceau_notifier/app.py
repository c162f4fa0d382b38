"""The notifier service, described once for the shared skeleton (:mod:`sceau_shared.service`)."""

from __future__ import annotations

from fastapi import FastAPI

from sceau_notifier import __version__
from sceau_notifier.api import OPERATOR_PREFIXES, ROUTERS
from sceau_notifier.consumers import create_router
from sceau_notifier.graph import NotifierGraph, build_graph
from sceau_notifier.settings import SERVICE_NAME, NotifierSettings
from sceau_shared.service import ServiceDefinition, create_service_app
from sceau_shared.service.definition import OperatorRoutes
from sceau_shared.telemetry import Telemetry

__all__ = ["DEFINITION", "create_api"]


DEFINITION: ServiceDefinition[NotifierSettings, NotifierGraph] = ServiceDefinition(
    name=SERVICE_NAME,
    title="Sceau notifier",
    description=(
        "Bilingual learner e-mails, signed institution webhooks and expiry reminders. "
        "The operator API needs 'Authorization: Bearer <NOTIFIER_OPERATOR_TOKEN>'."
    ),
    version=__version__,
    build_graph=build_graph,
    routers=ROUTERS,
    consumers=create_router,
    operator=OperatorRoutes(
        prefixes=OPERATOR_PREFIXES,
        token=lambda settings: settings.operator_token,
        setting_name="NOTIFIER_OPERATOR_TOKEN",
    ),
    # The operator API (webhook endpoints, deliveries) is stored in MongoDB; Kafka brings the
    # work, which waits in the producers' outboxes and in Kafka while the broker is away.
    answers_without={
        "kafka": "the operator API answers; no new e-mails or webhooks are taken in until it "
        "is back (the events wait in the producers' outboxes and in Kafka)"
    },
)


def create_api(settings: NotifierSettings, *, telemetry: Telemetry | None = None) -> FastAPI:
    """Build the notifier application; connections open in its lifespan, not here."""
    return create_service_app(DEFINITION, settings, telemetry=telemetry)

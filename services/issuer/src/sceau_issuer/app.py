"""The issuer service as the skeleton sees it: its definition and its app factory."""

from __future__ import annotations

from fastapi import APIRouter, FastAPI

from sceau_issuer import __version__
from sceau_issuer.api import (
    achievements,
    batches,
    claim,
    credentials,
    endorsements,
    insights,
    institution,
    learner,
    lms,
    shares,
    wallets,
)
from sceau_issuer.api.deps import authenticated_caller
from sceau_issuer.api.key_gate import ApiKeyGate
from sceau_issuer.consumers import create_router
from sceau_issuer.graph import IssuerGraph, build_graph
from sceau_issuer.learners.privacy import PrivateResponses, install_access_log_filter
from sceau_issuer.settings import SERVICE_NAME, IssuerSettings
from sceau_issuer.wallets.oauth_errors import WalletProtocolError, wallet_error_handler
from sceau_shared.events import (
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    IssuerKeyPublishedV1,
    NotificationRequestedV1,
    StatusListPublishedV1,
)
from sceau_shared.http.deadline import MongoDeadlineMiddleware
from sceau_shared.service import ServiceDefinition, create_service_app
from sceau_shared.telemetry import Telemetry

ROUTERS: tuple[APIRouter, ...] = (
    achievements.router,
    achievements.public,
    credentials.router,
    credentials.public,
    endorsements.router,
    batches.router,
    institution.router,
    insights.router,
    insights.public,
    claim.router,
    learner.router,
    shares.router,
    wallets.router,
    wallets.offers,
    wallets.exchanges,
    lms.router,
    lms.hooks,
)


def configure(app: FastAPI, settings: IssuerSettings) -> None:
    """Learner and share responses: no cache, no index, no referrer; tokens masked in logs.

    API keys are checked before a request body is read (:mod:`sceau_issuer.api.key_gate`).
    Wallet endpoints answer refusals in the OAuth shape wallets read (not problem details).
    """
    app.add_middleware(PrivateResponses)
    # Outside the body limit (which buffers the body): anonymous bodies are never read. The
    # gate's key lookup runs under the request's MongoDB deadline, opened outside it (the
    # skeleton's own deadline, further in, is nested and keeps the earlier end).
    app.add_middleware(ApiKeyGate, routers=ROUTERS, marker=authenticated_caller)
    app.add_middleware(MongoDeadlineMiddleware, seconds=settings.mongo.request_timeout_s)
    app.add_exception_handler(WalletProtocolError, wallet_error_handler)
    install_access_log_filter()


DEFINITION: ServiceDefinition[IssuerSettings, IssuerGraph] = ServiceDefinition(
    name=SERVICE_NAME,
    title="Sceau issuer",
    description=(
        "Institutions define bilingual achievements, issue, revoke, suspend and "
        "reinstate credentials. Authenticate with `Authorization: Bearer <API key>`; "
        "every issuing call needs an `Idempotency-Key` header. Errors are RFC 9457 "
        "problem details."
    ),
    version=__version__,
    build_graph=build_graph,
    routers=ROUTERS,
    consumers=create_router,
    publishes=(
        IssuerKeyPublishedV1,
        CredentialIssuedV1,
        CredentialStatusChangedV1,
        StatusListPublishedV1,
        NotificationRequestedV1,
    ),
    configure=configure,
    # Everything the API does is stored in MongoDB first; events leave through outboxes.
    answers_without={
        "kafka": "credentials are issued, revoked and stored; their events (notifications, "
        "status lists for the registry) are sent once it is back (outbox); new institutions "
        "from the registry arrive late"
    },
)


def create_api(settings: IssuerSettings, *, telemetry: Telemetry | None = None) -> FastAPI:
    """Build the issuer application; connections open in its lifespan, not here."""
    return create_service_app(DEFINITION, settings, telemetry=telemetry)

"""The verifier as a service: its definition for the shared skeleton, and its app factories."""

from __future__ import annotations

from fastapi import FastAPI
from starlette.middleware import Middleware

from sceau_shared.events import ShareOpenedV1, VerificationCompletedV1
from sceau_shared.logs import configure_logging
from sceau_shared.runner import load_settings
from sceau_shared.service import ServiceDefinition, create_service_app
from sceau_shared.telemetry import Telemetry
from sceau_verifier import __version__
from sceau_verifier.api import oid4vp, pages, shares, verify
from sceau_verifier.api.kept_gate import KeptAnswerGate
from sceau_verifier.api.redaction import hide_share_tokens
from sceau_verifier.consumers import create_router
from sceau_verifier.graph import VerifierGraph, build_graph
from sceau_verifier.settings import ENV_PREFIX, SERVICE_NAME, VerifierSettings

__all__ = ["DEFINITION", "app_from_environment", "configure", "create_api"]


def configure(app: FastAPI, settings: VerifierSettings) -> None:
    """The verifier's own middleware around the skeleton's.

    Share tokens leave the request path before spans, logs or problem answers can see it
    (outermost); kept ``POST /v1/verify`` answers are sent in front of the router (innermost,
    inside the body limit and the SERVER span: api/kept_gate.py).
    """
    hide_share_tokens(app, settings)
    app.user_middleware.append(Middleware(KeptAnswerGate))


DEFINITION: ServiceDefinition[VerifierSettings, VerifierGraph] = ServiceDefinition(
    name=SERVICE_NAME,
    title="Sceau verifier",
    description="Public verification of credentials, with explained answers.",
    version=__version__,
    build_graph=build_graph,
    routers=(verify.router, pages.router, shares.router, oid4vp.router),
    consumers=create_router,
    # Verifying needs neither Kafka nor a database, so a broker outage leaves /readyz 200
    # "degraded" and the public verifier online. The optional OpenID4VP store (oid4vp/) is not
    # the skeleton's MongoDB: readiness never checks it; its routes answer 503 without it.
    uses_mongo=False,
    answers_without={
        "kafka": "verifications are still answered; status lists and trust answers are "
        "refreshed by their TTLs instead of by events; verification events wait in a bounded "
        "queue (then are dropped and counted) until the broker is back"
    },
    publishes=(VerificationCompletedV1, ShareOpenedV1),
    configure=configure,
)


def create_api(settings: VerifierSettings, *, telemetry: Telemetry | None = None) -> FastAPI:
    """Build the verifier application; connections open in its lifespan, not here.

    One SERVER span per request, continuing the caller's trace: the skeleton's lean middleware
    rather than FastAPIInstrumentor, which cost a fifth of a cached verification's CPU
    (sceau_shared/http/server_spans.py, docs/benchmarks.md).
    """
    return create_service_app(DEFINITION, settings, telemetry=telemetry)


def app_from_environment() -> FastAPI:
    """Build the app in a worker process started by ``sceau_shared.workers`` (``VERIFIER_WORKERS``).

    Each worker reads the same ``VERIFIER_*`` environment as the parent (which already checked
    the settings and Kafka before starting workers) and logs as the service.
    """
    configure_logging(SERVICE_NAME)
    return create_api(load_settings(VerifierSettings, env_prefix=ENV_PREFIX))

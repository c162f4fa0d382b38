"""The registry service, described once for the shared skeleton (:mod:`sceau_shared.service`)."""

from __future__ import annotations

from dataclasses import replace

from fastapi import FastAPI
from starlette.types import ASGIApp

from sceau_registry import __version__
from sceau_registry.api import admin, public
from sceau_registry.consumers import create_router
from sceau_registry.graph import RegistryGraph, build_graph
from sceau_registry.hotpath import HotPathMiddleware
from sceau_registry.settings import SERVICE_NAME, RegistrySettings
from sceau_registry.trust_list.service import CredentialSigner
from sceau_shared.events import AccreditationChangedV1, InstitutionRegisteredV1
from sceau_shared.http import RateLimiter
from sceau_shared.runtime import Runtime
from sceau_shared.service import ServiceDefinition, create_service_app
from sceau_shared.service.definition import OperatorRoutes
from sceau_shared.telemetry import Telemetry

__all__ = ["DEFINITION", "configure", "create_api", "install_hot_paths", "install_rate_limiter"]


def install_rate_limiter(app: FastAPI, settings: RegistrySettings) -> None:
    """One per-client rate limiter for the routes and the hot path (``app.state.rate_limiter``)."""
    app.state.rate_limiter = RateLimiter(settings.http.rate_limit_per_minute)


def install_hot_paths(app: FastAPI) -> None:
    """Put :class:`HotPathMiddleware` in front of everything, tracing included.

    The OpenTelemetry instrumentation wraps the middleware stack the same way; the fast path
    must sit outside it to be worth having (see :mod:`sceau_registry.hotpath`). It reads the
    graph from ``app.state.graph`` (set by the lifespan) and answers nothing until it exists.
    """
    build_inner = app.build_middleware_stack

    def build() -> ASGIApp:
        return HotPathMiddleware(
            build_inner(),
            graph=lambda: getattr(app.state, "graph", None),
            limiter=app.state.rate_limiter,
        )

    setattr(app, "build_middleware_stack", build)  # noqa: B010 - instance override, on purpose


def configure(app: FastAPI, settings: RegistrySettings) -> None:
    """The registry's own HTTP layers: the rate limiter, then the hot path in front of all."""
    install_rate_limiter(app, settings)
    install_hot_paths(app)


DEFINITION: ServiceDefinition[RegistrySettings, RegistryGraph] = ServiceDefinition(
    name=SERVICE_NAME,
    title="Sceau registry",
    description="Trusted-issuer registry, DID hosting and status-list publication.",
    version=__version__,
    build_graph=build_graph,
    routers=(public.router, admin.router),
    consumers=create_router,
    operator=OperatorRoutes(
        prefixes=(admin.ADMIN_PREFIX,),
        token=lambda s: s.operator_token,
        setting_name="REGISTRY_OPERATOR_TOKEN",
    ),
    configure=configure,
    # Reads and writes need MongoDB; events leave through the outbox, so a broker outage only
    # delays them (and the status lists the issuer publishes, which arrive late).
    answers_without={
        "kafka": "registrations and key changes are stored and their events sent once it is "
        "back (outbox); status lists re-signed meanwhile by issuers arrive late"
    },
    publishes=(InstitutionRegisteredV1, AccreditationChangedV1),
)


def create_api(
    settings: RegistrySettings,
    *,
    telemetry: Telemetry | None = None,
    signer: CredentialSigner | None = None,
) -> FastAPI:
    """Build the registry application; connections open in its lifespan, not here.

    ``signer`` replaces the trust-list signer (tests use a fast one); the default signs with the
    credential engine (:func:`sceau_registry.trust_list.service.sign_trust_list`).
    """
    definition = DEFINITION
    if signer is not None:

        async def build_with_signer(settings: RegistrySettings, runtime: Runtime) -> RegistryGraph:
            return await build_graph(settings, runtime, signer=signer)

        definition = replace(DEFINITION, build_graph=build_with_signer)
    return create_service_app(definition, settings, telemetry=telemetry)

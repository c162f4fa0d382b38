"""Composition root of the registry service: builds the FastAPI app and its runtime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
from starlette.types import ASGIApp

from sceau_registry import __version__
from sceau_registry.admin import OperatorAuthMiddleware, build_admin_router
from sceau_registry.api import build_public_router
from sceau_registry.components import build_components
from sceau_registry.handlers import ComponentsGate, register_subscribers
from sceau_registry.hotpath import HotPathMiddleware
from sceau_registry.settings import SERVICE_NAME, RegistrySettings
from sceau_registry.signing import sign_trust_list
from sceau_registry.trustlist import CredentialSigner
from sceau_shared.http import RateLimiter, create_base_app
from sceau_shared.kafka import EventPublisher
from sceau_shared.runtime import Runtime, open_runtime
from sceau_shared.telemetry import Telemetry, setup_telemetry


def install_routes(app: FastAPI, settings: RegistrySettings) -> None:
    """Add the public and operator routes, the operator token guard and the rate limiter.

    The routes find their services in ``app.state.components`` (set by the lifespan).
    """
    app.state.rate_limiter = RateLimiter(settings.http.rate_limit_per_minute)
    app.include_router(build_public_router())
    app.include_router(build_admin_router())
    app.add_middleware(OperatorAuthMiddleware, token=settings.operator_token)


def create_api(
    settings: RegistrySettings,
    *,
    telemetry: Telemetry | None = None,
    signer: CredentialSigner | None = None,
) -> FastAPI:
    """Build the registry application; connections open in its lifespan, not here."""
    tel = telemetry or setup_telemetry(SERVICE_NAME, settings.telemetry)
    sign = signer or sign_trust_list
    gate = ComponentsGate()

    def subscribers(broker: KafkaBroker, publisher: EventPublisher) -> None:
        register_subscribers(broker, publisher, kafka=settings.kafka, gate=gate)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with open_runtime(
            SERVICE_NAME, settings, telemetry=tel, register_subscribers=subscribers
        ) as runtime:
            app.state.runtime = runtime
            components = await build_components(
                settings, runtime.db, signer=sign, publisher=runtime.publisher
            )
            app.state.components = components
            gate.open(components)
            tasks = [asyncio.create_task(components.trust_list.run(), name="trust-list")]
            if components.relay is not None:
                tasks.append(asyncio.create_task(components.relay.run(), name="outbox-relay"))
            try:
                yield {"runtime": runtime, "components": components}
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task

    async def mongo_ready(app: FastAPI) -> None:
        runtime: Runtime = app.state.runtime
        await runtime.check_mongo()

    async def kafka_ready(app: FastAPI) -> None:
        runtime: Runtime = app.state.runtime
        await runtime.check_kafka()

    app = create_base_app(
        title="Sceau registry",
        version=__version__,
        description=("Trusted-issuer registry, DID hosting and status-list publication."),
        lifespan=lifespan,
        readiness={"mongo": mongo_ready, "kafka": kafka_ready},
        max_body_bytes=settings.http.max_body_bytes,
    )
    install_routes(app, settings)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tel.tracer_provider)
    install_hot_paths(app)
    return app


def install_hot_paths(app: FastAPI) -> None:
    """Put :class:`HotPathMiddleware` in front of everything, tracing included.

    The OpenTelemetry instrumentation wraps the middleware stack the same way; the fast path
    must sit outside it to be worth having (see :mod:`sceau_registry.hotpath`).
    """
    build_inner = app.build_middleware_stack

    def build() -> ASGIApp:
        return HotPathMiddleware(
            build_inner(),
            components=lambda: getattr(app.state, "components", None),
            limiter=app.state.rate_limiter,
        )

    setattr(app, "build_middleware_stack", build)  # noqa: B010 - instance override, on purpose

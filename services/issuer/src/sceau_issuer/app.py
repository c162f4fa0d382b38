"""Composition root of the issuer service: builds the FastAPI app and its runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from sceau_issuer import __version__
from sceau_issuer.settings import SERVICE_NAME, IssuerSettings
from sceau_shared.http import create_base_app
from sceau_shared.runtime import Runtime, open_runtime
from sceau_shared.telemetry import Telemetry, setup_telemetry


def create_api(settings: IssuerSettings, *, telemetry: Telemetry | None = None) -> FastAPI:
    """Build the issuer application; connections open in its lifespan, not here."""
    tel = telemetry or setup_telemetry(SERVICE_NAME, settings.telemetry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with open_runtime(SERVICE_NAME, settings, telemetry=tel) as runtime:
            app.state.runtime = runtime
            yield {"runtime": runtime}

    async def mongo_ready(app: FastAPI) -> None:
        runtime: Runtime = app.state.runtime
        await runtime.check_mongo()

    async def kafka_ready(app: FastAPI) -> None:
        runtime: Runtime = app.state.runtime
        await runtime.check_kafka()

    app = create_base_app(
        title="Sceau issuer",
        version=__version__,
        description=(
            "Institutions define bilingual achievements, issue, revoke, suspend and "
            "reinstate credentials."
        ),
        lifespan=lifespan,
        readiness={"mongo": mongo_ready, "kafka": kafka_ready},
        max_body_bytes=settings.http.max_body_bytes,
    )
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tel.tracer_provider)
    return app

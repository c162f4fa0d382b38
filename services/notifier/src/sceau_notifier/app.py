"""Composition root of the notifier service: builds the FastAPI app and its runtime."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from sceau_notifier import __version__
from sceau_notifier.api import build_router
from sceau_notifier.clock import Clock, system_clock
from sceau_notifier.components import open_notifier
from sceau_notifier.handlers import IntakeHandle, KafkaDeadLetters, register_subscribers
from sceau_notifier.logsafety import silence_contact_leaks
from sceau_notifier.settings import SERVICE_NAME, NotifierSettings
from sceau_shared.http import create_base_app
from sceau_shared.kafka import EventPublisher
from sceau_shared.runtime import Runtime, open_runtime
from sceau_shared.telemetry import Telemetry, setup_telemetry


def create_api(
    settings: NotifierSettings,
    *,
    telemetry: Telemetry | None = None,
    clock: Clock = system_clock,
) -> FastAPI:
    """Build the notifier application; connections open in its lifespan, not here."""
    tel = telemetry or setup_telemetry(SERVICE_NAME, settings.telemetry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        silence_contact_leaks()
        handle = IntakeHandle()

        def subscribers(broker: KafkaBroker, publisher: EventPublisher) -> None:
            register_subscribers(
                broker,
                publisher,
                settings=settings,
                handle=handle,
                tracer_provider=tel.tracer_provider,
            )

        async with (
            open_runtime(
                SERVICE_NAME, settings, telemetry=tel, register_subscribers=subscribers
            ) as runtime,
            open_notifier(
                settings,
                runtime.db,
                clock=clock,
                dead_letters=KafkaDeadLetters(runtime.publisher),
                deliveries=runtime.metrics.deliveries,
                tracer_provider=tel.tracer_provider,
            ) as notifier,
        ):
            app.state.runtime = runtime
            app.state.notifier = notifier
            handle.set(notifier.intake)
            yield {"runtime": runtime, "notifier": notifier}

    async def mongo_ready(app: FastAPI) -> None:
        runtime: Runtime = app.state.runtime
        await runtime.check_mongo()

    async def kafka_ready(app: FastAPI) -> None:
        runtime: Runtime = app.state.runtime
        await runtime.check_kafka()

    app = create_base_app(
        title="Sceau notifier",
        version=__version__,
        description=(
            "Bilingual learner e-mails, signed institution webhooks and expiry reminders."
        ),
        lifespan=lifespan,
        readiness={"mongo": mongo_ready, "kafka": kafka_ready},
        max_body_bytes=settings.http.max_body_bytes,
    )
    app.include_router(build_router(settings))
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tel.tracer_provider)
    return app

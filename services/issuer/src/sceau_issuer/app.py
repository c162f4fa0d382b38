"""Composition root of the issuer service: builds the FastAPI app and its runtime."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from sceau_issuer import __version__
from sceau_issuer.api import achievements, batches, claim, credentials, institution
from sceau_issuer.handlers import register_subscribers
from sceau_issuer.relay import RelayPool, TargetedOutboxRelay
from sceau_issuer.services import (
    CHUNKS_OUTBOX,
    CREDENTIALS_OUTBOX,
    FAST_OUTBOXES,
    Services,
    build_services,
)
from sceau_issuer.settings import SERVICE_NAME, IssuerSettings
from sceau_issuer.tenants.service import TenantService
from sceau_shared.http import RateLimiter, create_base_app
from sceau_shared.outbox import OutboxRelay
from sceau_shared.runtime import Runtime, open_runtime
from sceau_shared.telemetry import Telemetry, setup_telemetry


def create_api(settings: IssuerSettings, *, telemetry: Telemetry | None = None) -> FastAPI:
    """Build the issuer application; connections open in its lifespan, not here."""
    tel = telemetry or setup_telemetry(SERVICE_NAME, settings.telemetry)
    holder: dict[str, Services] = {}

    def tenants() -> TenantService:
        return holder["services"].tenants

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with open_runtime(
            SERVICE_NAME,
            settings,
            telemetry=tel,
            register_subscribers=register_subscribers(settings, tenants),
        ) as runtime:
            svc = build_services(settings, runtime.db)
            holder["services"] = svc
            await svc.ensure_indexes()
            # The relays' spans continue the trace of the request that wrote each event.
            traced = tel.tracer_provider
            relays = [
                OutboxRelay(
                    [runtime.db[name] for name in FAST_OUTBOXES],
                    runtime.publisher,
                    tracer_provider=traced,
                )
                for _ in range(settings.outbox_relays)
            ]
            credentials_relay = TargetedOutboxRelay(
                runtime.db[CREDENTIALS_OUTBOX],
                runtime.publisher,
                sweep_interval_s=settings.credentials_outbox_sweep_s,
                tracer_provider=traced,
            )
            chunks = RelayPool(
                runtime.db[CHUNKS_OUTBOX],
                runtime.publisher,
                size=settings.chunk_relays,
                sweep_interval_s=settings.credentials_outbox_sweep_s,
                tracer_provider=traced,
            )
            await relays[0].ensure_indexes()
            svc.fast_relays.extend(relay.wake for relay in relays)
            svc.credential_relay.append(credentials_relay.notify)
            svc.chunk_relay.append(chunks.notify)
            relays += [credentials_relay, *chunks.relays]
            for relay in relays:
                relay.metrics = runtime.metrics  # issued / status-changed counted once published
            svc.signer.start()
            app.state.runtime = runtime
            app.state.services = svc
            app.state.relays = relays
            tasks = [asyncio.create_task(relay.run(), name="outbox-relay") for relay in relays]
            tasks.append(asyncio.create_task(svc.worker.run(), name="batch-worker"))
            tasks.append(asyncio.create_task(svc.publisher.run(), name="status-publisher"))
            app.state.tasks = tasks
            try:
                yield {"runtime": runtime}
            finally:
                for task in tasks:
                    task.cancel()
                for task in tasks:
                    with contextlib.suppress(asyncio.CancelledError):
                        await task
                svc.signer.close()

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
            "reinstate credentials. Authenticate with `Authorization: Bearer <API key>`; "
            "every issuing call needs an `Idempotency-Key` header. Errors are RFC 9457 "
            "problem details."
        ),
        lifespan=lifespan,
        readiness={"mongo": mongo_ready, "kafka": kafka_ready},
        max_body_bytes=settings.http.max_body_bytes,
    )
    app.state.claim_limiter = RateLimiter(settings.http.rate_limit_per_minute)
    for router in (
        achievements.router,
        achievements.public,
        credentials.router,
        batches.router,
        institution.router,
        claim.router,
    ):
        app.include_router(router)
    FastAPIInstrumentor.instrument_app(app, tracer_provider=tel.tracer_provider)
    return app

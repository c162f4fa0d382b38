"""Composition root of the verifier service: builds the FastAPI app and its runtime."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from faststream.kafka import KafkaBroker

from sceau_credentials.warmup import warm_up_verification
from sceau_shared.events import VerificationCompletedV1
from sceau_shared.http import RateLimiter, create_base_app
from sceau_shared.http.app import Lifespan
from sceau_shared.http.server_spans import ServerSpans
from sceau_shared.kafka import EventPublisher
from sceau_shared.logs import configure_logging
from sceau_shared.runner import load_settings
from sceau_shared.runtime import Runtime, open_runtime
from sceau_shared.ssrf import GuardedTransport
from sceau_shared.telemetry import Telemetry, setup_telemetry
from sceau_verifier import __version__, api, pages
from sceau_verifier.api import VerifierState
from sceau_verifier.engine import Caches, build_caches, build_engine
from sceau_verifier.handlers import CacheInvalidation
from sceau_verifier.reports import EventSink, ReportSender
from sceau_verifier.service import VerificationService
from sceau_verifier.settings import ENV_PREFIX, SERVICE_NAME, VerifierSettings

_log = logging.getLogger(__name__)


def _http_clients(settings: VerifierSettings) -> tuple[httpx.AsyncClient, httpx.AsyncClient]:
    """Two clients: one for URLs taken from credentials (SSRF-guarded), one for the registry.

    The guarded client checks every address at connect time; the registry's URL is configured by
    the operator, so its client may reach a private address (the registry usually is one).
    """
    untrusted_private = settings.status.allow_private_hosts or settings.did_web.allow_private_hosts
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    guarded = httpx.AsyncClient(
        transport=GuardedTransport(allow_private=untrusted_private),
        limits=limits,
        follow_redirects=False,
        trust_env=False,
    )
    registry = httpx.AsyncClient(limits=limits, follow_redirects=False, trust_env=False)
    return guarded, registry


def create_state(
    settings: VerifierSettings,
    caches: Caches,
    *,
    publish: EventSink | None,
    limiter: RateLimiter,
    on_report_dropped: Callable[[VerificationCompletedV1], None] = lambda event: None,
) -> VerifierState:
    """Build the verification service and what the routes need from it.

    ``publish`` hands one ``VerificationCompletedV1`` to the broker; events queue for it in a
    :class:`ReportSender` of ``settings.report_queue_max`` (past that, ``on_report_dropped``).
    """
    reports = (
        ReportSender(publish, capacity=settings.report_queue_max, on_drop=on_report_dropped)
        if publish is not None and settings.publish_events
        else None
    )
    service = VerificationService(
        build_engine(settings, caches),
        caches.registry,
        reports=reports,
        timeout_s=settings.limits.verify_timeout_s,
        producer=SERVICE_NAME,
    )
    return VerifierState(
        service=service,
        limiter=limiter,
        max_depth=settings.limits.max_depth,
        batch_max=settings.limits.batch_max,
        proofs=caches.proofs,
    )


def create_shell(settings: VerifierSettings, *, lifespan: Lifespan) -> FastAPI:
    """The app with its routes, probes and limits; ``lifespan`` provides ``verifier`` state.

    The lifespan must yield ``verifier`` (:class:`VerifierState`), ``templates`` and, for the
    readiness probes, set ``app.state.runtime``.
    """

    async def mongo_ready(app: FastAPI) -> None:
        runtime: Runtime = app.state.runtime
        await runtime.check_mongo()

    async def kafka_ready(app: FastAPI) -> None:
        runtime: Runtime = app.state.runtime
        await runtime.check_kafka()

    app = create_base_app(
        title="Sceau verifier",
        version=__version__,
        description="Public verification of credentials, with explained answers.",
        lifespan=lifespan,
        readiness={"mongo": mongo_ready, "kafka": kafka_ready},
        max_body_bytes=settings.http.max_body_bytes,
    )
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


def _report_delivery(delivery: asyncio.Future[Any]) -> None:
    """Log a verification event the broker did not take (the answer was already given)."""
    if not delivery.cancelled() and delivery.exception() is not None:
        _log.warning(
            "a VerificationCompletedV1 was not delivered: %s",
            type(delivery.exception()).__name__,
        )


def create_api(settings: VerifierSettings, *, telemetry: Telemetry | None = None) -> FastAPI:
    """Build the verifier application; connections open in its lifespan, not here."""
    tel = telemetry or setup_telemetry(SERVICE_NAME, settings.telemetry)
    limiter = RateLimiter(
        settings.http.rate_limit_per_minute, burst=settings.limits.rate_limit_burst
    )
    templates = pages.create_templates()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        async with AsyncExitStack() as stack:
            guarded, registry_http = _http_clients(settings)
            stack.push_async_callback(guarded.aclose)
            stack.push_async_callback(registry_http.aclose)
            caches = build_caches(settings, guarded=guarded, registry_http=registry_http)
            invalidation = CacheInvalidation(caches.status_lists, caches.registry)

            def register(broker: KafkaBroker, publisher: EventPublisher) -> None:
                invalidation.register(
                    broker,
                    publisher,
                    settings=settings.kafka,
                    status_group=settings.status_cache_group,
                    trust_group=settings.trust_cache_group,
                    offset_reset=settings.invalidation_offset_reset,
                )

            runtime = await stack.enter_async_context(
                open_runtime(SERVICE_NAME, settings, telemetry=tel, register_subscribers=register)
            )
            app.state.runtime = runtime

            async def publish(event: VerificationCompletedV1) -> None:
                # One event per verification, read only for statistics: it joins the producer's
                # next batch instead of waiting for its own acknowledgement.
                runtime.metrics.verifications.add(1, {"outcome": event.outcome.value})
                delivery = await runtime.publisher.send_detached(event)
                delivery.add_done_callback(_report_delivery)

            def dropped(event: VerificationCompletedV1) -> None:
                runtime.metrics.verifications.add(1, {"outcome": event.outcome.value})
                runtime.metrics.events_dropped.add(1, {"event_type": event.event_type})

            state = create_state(
                settings, caches, publish=publish, limiter=limiter, on_report_dropped=dropped
            )
            stack.push_async_callback(state.service.drain)
            app.state.caches = caches
            # Load the JSON-LD contexts, schemas and canonicalizer now, then keep everything
            # built so far (it lives as long as the process) out of the collector's
            # generations: full collections stay short (p99 halved in bench/verify.py).
            await warm_up_verification()
            gc.collect()
            gc.freeze()
            gc.set_threshold(50_000, 20, 10)
            yield {
                "runtime": runtime,
                "caches": caches,
                "templates": templates,
                "verifier": state,
            }

    app = create_shell(settings, lifespan=lifespan)
    # One SERVER span per request, continuing the caller's trace: our lean middleware rather
    # than FastAPIInstrumentor, which cost a fifth of a cached verification's CPU
    # (sceau_shared/http/server_spans.py, docs/benchmarks.md).
    app.add_middleware(
        ServerSpans, tracer_provider=tel.tracer_provider, routes=lambda: app.router.routes
    )
    return app


def app_from_environment() -> FastAPI:
    """Build the app in a worker process started by ``sceau_shared.workers`` (``VERIFIER_WORKERS``).

    Each worker reads the same ``VERIFIER_*`` environment as the parent (which already checked
    the settings, Kafka and MongoDB before starting workers) and logs as the service.
    """
    configure_logging(SERVICE_NAME)
    return create_api(load_settings(VerifierSettings, env_prefix=ENV_PREFIX))

"""Build a service's FastAPI application from its :class:`ServiceDefinition`."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from fastapi import FastAPI
from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

from sceau_shared.http.app import create_base_app
from sceau_shared.http.deadline import MongoDeadlineMiddleware
from sceau_shared.http.operator import OperatorAuthMiddleware
from sceau_shared.http.server_spans import ServerSpans
from sceau_shared.kafka import GRAPH_CONTEXT, PUBLISHER_CONTEXT
from sceau_shared.runtime import Runtime, ServiceSettings, mongo_of, open_connections
from sceau_shared.service.asyncapi import build_asyncapi
from sceau_shared.service.definition import ServiceDefinition, ServiceGraph
from sceau_shared.service.state import ServiceState
from sceau_shared.telemetry import Telemetry, setup_telemetry

__all__ = ["create_service_app", "stop_tasks"]

_log = logging.getLogger(__name__)


S = TypeVar("S", bound=ServiceSettings)
G = TypeVar("G", bound=ServiceGraph)


def create_service_app(
    definition: ServiceDefinition[S, G],
    settings: S,
    *,
    telemetry: Telemetry | None = None,
    lean_spans: bool = True,
) -> FastAPI:
    """Create the app; connections open in its lifespan (see :mod:`sceau_shared.service`).

    HTTP requests are traced by the lean
    :class:`~sceau_shared.http.server_spans.ServerSpans` (one SERVER span per request and the
    ``http.server.request.duration`` histogram, no per-message ASGI spans): FastAPI's
    OpenTelemetry instrumentation cost a fifth of a cached verification's CPU and about 0.45 ms
    of a single issue's (docs/benchmarks.md). ``lean_spans=False`` brings that instrumentation back
    (more attributes, old-style duration metrics) where its cost does not matter.
    """
    tel = telemetry or setup_telemetry(definition.name, settings.telemetry)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[ServiceState]:
        async with open_connections(
            definition.name, settings, telemetry=tel, with_mongo=definition.uses_mongo
        ) as runtime:
            graph = await definition.build_graph(settings, runtime)
            app.state.runtime = runtime
            app.state.graph = graph
            try:
                runtime.broker.context.set_global(GRAPH_CONTEXT, graph)
                runtime.broker.context.set_global(PUBLISHER_CONTEXT, runtime.publisher)
                if definition.consumers is not None:
                    runtime.broker.include_router(definition.consumers(settings))
                async with runtime.consuming(), _running(graph):
                    yield ServiceState(runtime=runtime, graph=graph)
            finally:
                await graph.close()

    def check(name: str) -> Callable[[FastAPI], Awaitable[None]]:
        async def run(app: FastAPI) -> None:
            runtime: Runtime | None = getattr(app.state, "runtime", None)
            if runtime is None:
                raise RuntimeError("starting")
            await runtime.readiness()[name]()

        return run

    readiness = {"kafka": check("kafka")}
    if definition.uses_mongo:
        readiness["mongo"] = check("mongo")
    app = create_base_app(
        title=definition.title,
        version=definition.version,
        description=definition.description,
        lifespan=lifespan,
        readiness=readiness,
        optional=definition.answers_without,
        max_body_bytes=settings.http.max_body_bytes,
    )
    for router in definition.routers:
        app.include_router(router)
    mongo = mongo_of(settings) if definition.uses_mongo else None
    if mongo is not None:
        app.add_middleware(MongoDeadlineMiddleware, seconds=mongo.request_timeout_s)
    _publish_asyncapi(app, definition, settings)
    if definition.operator is not None:
        app.add_middleware(
            OperatorAuthMiddleware,
            token=definition.operator.token(settings),
            prefixes=definition.operator.prefixes,
            # "registry" and "sceau-registry" both give the realm "sceau-registry".
            realm="sceau-" + definition.name.removeprefix("sceau-"),
            setting_name=definition.operator.setting_name,
        )
    if lean_spans:
        app.add_middleware(
            ServerSpans,
            tracer_provider=tel.tracer_provider,
            meter_provider=tel.meter_provider,
            routes=lambda: app.router.routes,
        )
    else:
        FastAPIInstrumentor.instrument_app(app, tracer_provider=tel.tracer_provider)
    if definition.configure is not None:
        definition.configure(app, settings)
    return app


@asynccontextmanager
async def _running(graph: ServiceGraph) -> AsyncIterator[None]:
    """Run the graph's background loops while the service serves; cancel them after."""
    tasks = [asyncio.create_task(loop(), name=name) for name, loop in graph.background()]
    try:
        yield
    finally:
        await stop_tasks(tasks)


async def stop_tasks(
    tasks: list[asyncio.Task[None]], *, grace_s: float = 12.0, insist_s: float = 5.0
) -> None:
    """Cancel ``tasks`` and wait until each has ended.

    A loop may finish its round on cancellation (the notifier's e-mail batch, the verifier's
    event hand-over): it gets ``grace_s``. On Python 3.11 a cancellation can also be swallowed
    inside a library call (``asyncio.wait_for`` racing its own timeout), leaving a loop running
    for good; a task still running after the grace period is cancelled again every half second
    for ``insist_s``, then logged and left, so a shutdown never hangs on it.
    """
    for task in tasks:
        task.cancel()
    pending = {task for task in tasks if not task.done()}
    if pending:
        _, pending = await asyncio.wait(pending, timeout=grace_s)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + insist_s
    while pending and loop.time() < deadline:
        for task in pending:
            task.cancel()
        _, pending = await asyncio.wait(pending, timeout=0.5)
    for task in pending:
        _log.error("background task %s did not stop", task.get_name())
    for task in tasks:
        if task.done() and not task.cancelled() and task.exception() is not None:
            _log.error("background task %s had failed", task.get_name(), exc_info=task.exception())


def _publish_asyncapi(app: FastAPI, definition: ServiceDefinition[S, G], settings: S) -> None:
    """Serve the service's AsyncAPI document beside ``/openapi.json`` (built once, on first ask)."""
    built: list[dict[str, Any]] = []

    @app.get(
        "/asyncapi.json",
        tags=["probes"],
        summary="AsyncAPI document: the Kafka topics this service sends to and receives from",
        response_model=dict[str, Any],
    )
    async def asyncapi() -> dict[str, Any]:
        """Generated from the consumer router and the published event types (no hand-kept copy)."""
        if not built:
            built.append(build_asyncapi(definition, settings))
        return built[0]

"""The lean SERVER-span middleware: one span per request, continuing the caller's trace."""

from __future__ import annotations

import httpx
import pytest
from fastapi import APIRouter, FastAPI
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from sceau_shared.http.server_spans import ServerSpans

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER_SPAN = "00f067aa0ba902b7"


@pytest.fixture
def traced() -> tuple[FastAPI, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()

    @app.post("/v1/verify")
    async def verify() -> dict[str, bool]:
        return {"verified": True}

    @app.get("/v1/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    included = APIRouter(prefix="/v1/included")

    @included.get("/{thing}")
    async def thing(thing: str) -> dict[str, str]:
        return {"thing": thing}

    app.include_router(included)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("kaput")

    app.add_middleware(ServerSpans, tracer_provider=provider, routes=lambda: app.router.routes)
    return app, exporter


async def test_a_request_continues_the_callers_trace(traced) -> None:
    app, exporter = traced
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        answer = await c.post(
            "/v1/verify", headers={"traceparent": f"00-{CALLER_TRACE}-{CALLER_SPAN}-01"}
        )
    assert answer.status_code == 200
    (span,) = exporter.get_finished_spans()
    assert span.name == "POST /v1/verify"
    assert span.kind is SpanKind.SERVER
    assert format(span.context.trace_id, "032x") == CALLER_TRACE
    assert span.parent is not None
    assert format(span.parent.span_id, "016x") == CALLER_SPAN
    assert span.attributes["http.response.status_code"] == 200
    assert span.attributes["http.route"] == "/v1/verify"


async def test_routes_are_named_by_template_and_unknown_paths_by_method(traced) -> None:
    app, exporter = traced
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        for item in ("a", "b", "a"):
            assert (await c.get(f"/v1/items/{item}")).status_code == 200
        assert (await c.get("/nowhere")).status_code == 404
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["GET /v1/items/{item_id}"] * 3 + ["GET"]
    assert exporter.get_finished_spans()[-1].attributes["http.response.status_code"] == 404


async def test_a_failure_is_recorded_as_an_error(traced) -> None:
    app, exporter = traced
    transport = httpx.ASGITransport(app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/boom")).status_code == 500
    (span,) = exporter.get_finished_spans()
    assert span.status.status_code is StatusCode.ERROR
    assert any(event.name == "exception" for event in span.events)


async def test_routes_of_included_routers_are_named_by_template(traced) -> None:
    app, exporter = traced
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        for thing in ("x", "y"):
            assert (await c.get(f"/v1/included/{thing}")).status_code == 200
    spans = exporter.get_finished_spans()
    assert [s.name for s in spans] == ["GET /v1/included/{thing}"] * 2
    assert spans[0].attributes["http.route"] == "/v1/included/{thing}"


async def test_durations_are_recorded_per_route_and_status() -> None:
    reader = InMemoryMetricReader()
    app = FastAPI()

    @app.get("/v1/items/{item_id}")
    async def item(item_id: str) -> dict[str, str]:
        return {"id": item_id}

    app.add_middleware(
        ServerSpans,
        tracer_provider=TracerProvider(),
        meter_provider=MeterProvider(metric_readers=[reader]),
        routes=lambda: app.router.routes,
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://t") as c:
        assert (await c.get("/v1/items/secret-1")).status_code == 200
        assert (await c.get("/v1/items/secret-2")).status_code == 200
        assert (await c.get("/nowhere")).status_code == 404
    data = reader.get_metrics_data()
    assert data is not None
    [histogram] = [
        metric
        for resource in data.resource_metrics
        for scope in resource.scope_metrics
        for metric in scope.metrics
        if metric.name == "http.server.request.duration"
    ]
    assert histogram.unit == "s"
    points = {
        (p.attributes.get("http.route"), p.attributes.get("http.response.status_code")): p.count
        for p in histogram.data.data_points
    }
    assert points == {("/v1/items/{item_id}", 200): 2, (None, 404): 1}
    assert "secret" not in str([p.attributes for p in histogram.data.data_points])

"""Spans nobody receives are not recorded, and still carry the ids logs and headers need.

With no OTLP endpoint and no in-process span processor a service used to build, time and drop
about eight spans per issued credential; now the sampler drops them at the start. Trace ids in
the JSON logs and the W3C context in HTTP/Kafka headers must not change.
"""

from __future__ import annotations

import io
import json
import logging

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBasedTraceIdRatio
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from sceau_shared.logs import JsonFormatter
from sceau_shared.settings import TelemetrySettings
from sceau_shared.telemetry import setup_telemetry


def test_without_a_receiver_spans_are_not_recorded_but_keep_their_ids() -> None:
    telemetry = setup_telemetry("sampling-test", TelemetrySettings())
    tracer = telemetry.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        assert not span.is_recording()
        context = span.get_span_context()
        assert context.is_valid
        headers: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(headers)
        assert headers["traceparent"].split("-")[1] == format(context.trace_id, "032x")
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(JsonFormatter("sampling-test"))
        log = logging.getLogger("sampling-test")
        log.addHandler(handler)
        try:
            log.warning("inside the request")
        finally:
            log.removeHandler(handler)
        line = json.loads(stream.getvalue())
        assert line["trace_id"] == format(context.trace_id, "032x")
        with tracer.start_as_current_span("child") as child:
            assert child.get_span_context().trace_id == context.trace_id
    telemetry.shutdown()


def test_with_a_receiver_spans_are_recorded_at_the_configured_ratio() -> None:
    exporter = InMemorySpanExporter()
    telemetry = setup_telemetry(
        "sampling-test",
        TelemetrySettings(),
        extra_span_processors=(SimpleSpanProcessor(exporter),),
    )
    tracer = telemetry.tracer_provider.get_tracer("test")
    with tracer.start_as_current_span("request") as span:
        assert span.is_recording()
    assert [s.name for s in exporter.get_finished_spans()] == ["request"]
    telemetry.shutdown()


def test_an_otlp_endpoint_is_a_receiver() -> None:
    telemetry = setup_telemetry(
        "sampling-test", TelemetrySettings(otlp_endpoint="http://127.0.0.1:9/")
    )
    try:
        # The configured ratio decides (nothing is started: the endpoint is not there).
        assert isinstance(telemetry.tracer_provider.sampler, ParentBasedTraceIdRatio)
    finally:
        telemetry.tracer_provider.shutdown()

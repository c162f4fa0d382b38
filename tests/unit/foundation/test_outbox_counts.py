"""The relay reads a published event's JSON once: for its trace context and for the counters.

``sceau.credentials.issued`` is counted by profile and ``sceau.credentials.status_changed`` by
change when the relay publishes the event; other events, and a payload that is not a JSON
object, are published and not counted.
"""

from __future__ import annotations

import json
from typing import Any

from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from sceau_dev.testing.metrics import metric_points
from sceau_shared.metrics import BusinessMetrics
from sceau_shared.outbox import OutboxRelay

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT_ID = "00f067aa0ba902b7"


class _Publisher:
    """Records what the relay publishes."""

    def __init__(self) -> None:
        self.published: list[dict[str, Any]] = []

    async def publish_raw(self, **record: Any) -> None:
        self.published.append(record)


def _entry(n: int, event_type: str, payload: str) -> dict[str, Any]:
    return {
        "event_id": f"e-{n}",
        "event_type": event_type,
        "topic": f"t.{event_type}",
        "key": f"k-{n}",
        "payload": payload,
    }


def _counted(reader: InMemoryMetricReader, name: str, attribute: str) -> dict[str, int]:
    return {
        str(point.attributes[attribute]): int(point.value) for point in metric_points(reader, name)
    }


async def test_published_events_are_counted_and_continue_their_trace() -> None:
    reader = InMemoryMetricReader()
    exporter = InMemorySpanExporter()
    tracing = TracerProvider()
    tracing.add_span_processor(SimpleSpanProcessor(exporter))
    publisher = _Publisher()
    relay = OutboxRelay([], publisher, tracer_provider=tracing)  # type: ignore[arg-type]
    relay.metrics = BusinessMetrics.create(MeterProvider(metric_readers=[reader]), "test")
    traced = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01"}
    entries = [
        _entry(1, "credential-issued", json.dumps({"profile": "ob3-v2", "trace_context": traced})),
        _entry(2, "credential-issued", json.dumps({"profile": "ob3-v2"})),
        _entry(3, "credential-issued", json.dumps({"profile": "jwt"})),
        _entry(4, "credential-status-changed", json.dumps({"change": "revoked"})),
        _entry(5, "notification-requested", json.dumps({"profile": "ob3-v2"})),
        _entry(6, "credential-issued", "not json"),
        _entry(7, "credential-issued", json.dumps(["a", "list"])),
    ]

    for entry in entries:
        await relay._publish(entry)

    assert [r["event_id"] for r in publisher.published] == [f"e-{n}" for n in range(1, 8)]
    issued = _counted(reader, "sceau.credentials.issued", "profile")
    assert issued == {"ob3-v2": 2, "jwt": 1}  # 6 and 7 published, not counted
    assert _counted(reader, "sceau.credentials.status_changed", "change") == {"revoked": 1}
    first = next(
        s for s in exporter.get_finished_spans() if s.name == "outbox relay t.credential-issued"
    )
    assert first.context.trace_id == int(TRACE_ID, 16)
    assert first.parent is not None
    assert first.parent.span_id == int(PARENT_ID, 16)

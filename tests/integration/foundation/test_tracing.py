"""One trace follows an event from the request that wrote it, through the outbox, to a consumer."""

import asyncio
from datetime import UTC, datetime

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from sceau_shared.events import CredentialStatusChangedV1, StatusChange
from sceau_shared.kafka import EventPublisher, create_broker, subscribe_event
from sceau_shared.outbox import OutboxRelay, outbox_push

pytestmark = pytest.mark.integration


async def test_trace_context_crosses_the_outbox_and_kafka(
    kafka_settings, mongo_client, mongo_settings
):
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    coll = mongo_client[mongo_settings.database]["credentials"]
    await coll.insert_one({"_id": "c-1"})

    with tracer.start_as_current_span("POST /v1/credentials/c-1/revoke") as request_span:
        event = CredentialStatusChangedV1(
            producer="issuer",
            credential_id="c-1",
            institution_id="i",
            issuer_did="did:key:z",
            change=StatusChange.REVOKED,
            reason_code="misconduct",
            effective_at=datetime.now(UTC),
        )
        await coll.update_one({"_id": "c-1"}, {"$set": {"status": "revoked"}} | outbox_push(event))
    assert event.trace_context["traceparent"].split("-")[1] == format(
        request_span.get_span_context().trace_id, "032x"
    )

    received = asyncio.Event()
    broker = create_broker(kafka_settings, client_id="trace-test", tracer_provider=provider)
    publisher = EventPublisher(broker, kafka_settings, producer="trace-test")

    @subscribe_event(
        broker,
        CredentialStatusChangedV1,
        settings=kafka_settings,
        group_id=f"{kafka_settings.client_id}.trace",
        publisher=publisher,
    )
    async def handle(_: CredentialStatusChangedV1) -> None:
        received.set()

    async with broker:
        await broker.start()
        # The relay runs later, outside the request: the trace must still continue.
        relay = OutboxRelay([coll], publisher, tracer_provider=provider)
        assert await relay.drain_once() == 1
        await asyncio.wait_for(received.wait(), timeout=30)
    provider.force_flush()

    spans = exporter.get_finished_spans()
    trace_id = request_span.get_span_context().trace_id
    in_trace = [s for s in spans if s.context.trace_id == trace_id]
    by_id = {s.context.span_id: s for s in in_trace}
    relay_span = next(s for s in in_trace if s.name.startswith("outbox relay"))
    assert relay_span.parent.span_id == request_span.get_span_context().span_id
    consumer_spans = [s for s in in_trace if s.kind.name == "CONSUMER"]
    assert consumer_spans, [s.name for s in spans]

    def ancestors(span):
        while span.parent is not None and span.parent.span_id in by_id:
            span = by_id[span.parent.span_id]
            yield span

    chain = [s.name for s in ancestors(consumer_spans[0])]
    assert relay_span.name in chain


async def test_mongo_commands_are_traced(mongo_settings):
    from sceau_dev.testing.tracing import pymongo_spans_to
    from sceau_shared.mongo import create_client

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # Whichever service instrumented PyMongo first in this process, the spans come here.
    with pymongo_spans_to(provider):
        client = create_client(mongo_settings, app_name="trace-test")
        try:
            await client[mongo_settings.database]["things"].insert_one({"_id": 1})
            await client.drop_database(mongo_settings.database)
        finally:
            await client.close()
    names = [s.name for s in exporter.get_finished_spans()]
    assert any("insert" in name for name in names), names

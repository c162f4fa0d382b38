"""Test support for asserting spans: route the process-wide MongoDB spans to a test's provider."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.trace import TracerProvider

from sceau_shared.compat.otel_pymongo import swap_command_tracer


@contextmanager
def pymongo_spans_to(provider: TracerProvider) -> Iterator[None]:
    """Send this process's MongoDB command spans to ``provider`` while the block runs.

    PyMongo's command listeners are process-wide and cannot be unregistered, and the
    OpenTelemetry instrumentation builds its tracer once, from the provider of the first call
    (:func:`sceau_shared.runtime.instrument_pymongo` — the first service started in the process).
    In production a process runs one service, so that is right; in a test process the first
    provider may belong to a test long finished, so a test asserting MongoDB spans points that
    one tracer at its own provider here. Everything is put back afterwards, so later tests see
    the instrumentation as they would have without this one.
    """
    instrumentor = PymongoInstrumentor()
    was_instrumented = instrumentor.is_instrumented_by_opentelemetry
    if not was_instrumented:
        instrumentor.instrument(tracer_provider=provider)
    previous = swap_command_tracer(
        instrumentor, provider.get_tracer("opentelemetry.instrumentation.pymongo")
    )
    try:
        yield
    finally:
        swap_command_tracer(instrumentor, previous)
        if not was_instrumented:
            instrumentor.uninstrument()

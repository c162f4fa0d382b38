"""The OpenTelemetry PyMongo instrumentation's internals a test needs to retarget its spans.

PyMongo command listeners are process-wide and cannot be unregistered, and the instrumentation
builds its tracer once, from the provider of its first ``instrument()`` call. In production a
process runs one service, so that is right; a test process runs many, and a test asserting MongoDB
spans must point that one tracer at its own provider
(:func:`sceau_dev.testing.tracing.pymongo_spans_to`). The instrumentation has no public way to.

Internals used (checked against opentelemetry-instrumentation-pymongo 0.66b1;
``<0.67`` in ``shared/core/pyproject.toml``):

* ``PymongoInstrumentor._commandtracer_instance`` — the registered ``CommandTracer`` listener
  (``None`` until ``instrument()`` ran);
* ``CommandTracer._tracer`` — the tracer it starts every command span with.

(``is_instrumented_by_opentelemetry``, used by ``sceau_shared.runtime``, is public API of
``BaseInstrumentor``.) What breaks if they move: only tests that assert MongoDB spans; they fail
with :class:`UnsupportedLibraryError` naming the instrumentation's version.
"""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from opentelemetry.trace import Tracer

from sceau_shared.compat import reaching_into

__all__ = ["swap_command_tracer"]

_DISTRIBUTION = "opentelemetry-instrumentation-pymongo"
_MODULE = "sceau_shared.compat.otel_pymongo"


def swap_command_tracer(instrumentor: PymongoInstrumentor, tracer: Tracer) -> Tracer:
    """Make the registered PyMongo listener start its spans with ``tracer``; return the old one.

    Raises:
        RuntimeError: the instrumentation is not active (call ``instrument()`` first).
        UnsupportedLibraryError: the installed instrumentation keeps its tracer elsewhere.
    """
    with reaching_into(_DISTRIBUTION, "PymongoInstrumentor._commandtracer_instance", _MODULE):
        listener: Any = instrumentor._commandtracer_instance
    if listener is None:
        raise RuntimeError("the PyMongo instrumentation did not register its listener")
    with reaching_into(_DISTRIBUTION, "CommandTracer._tracer", _MODULE):
        previous: Tracer = listener._tracer
    listener._tracer = tracer
    return previous

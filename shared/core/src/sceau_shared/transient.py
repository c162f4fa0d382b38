"""Which failures are transient: a dependency that is down or slow, not a request that is wrong.

One rule for every place that must tell the two apart: a consumer keeps retrying a transient
failure (without acknowledging the message) for as long as the outage lasts, but dead-letters a
message that keeps failing for any other reason; an HTTP request that meets a transient failure is
answered ``503`` with ``Retry-After`` instead of ``500``.

Transient: MongoDB unreachable or too slow (``ConnectionFailure`` — which covers
``AutoReconnect``, ``NetworkTimeout`` and ``ServerSelectionTimeoutError`` — ``ExecutionTimeout``,
``WTimeoutError`` and any error pymongo flags as a timeout), and Kafka errors aiokafka flags as
retriable (a send that timed out, a broker that is not reachable). The exception's causes are
followed too, so a domain error raised ``from`` one of these is still transient.
"""

from __future__ import annotations

from aiokafka.errors import KafkaConnectionError, KafkaError, KafkaTimeoutError
from pymongo.errors import ConnectionFailure, ExecutionTimeout, PyMongoError, WTimeoutError

__all__ = ["is_transient"]

_TRANSIENT = (
    ConnectionFailure,
    ExecutionTimeout,
    WTimeoutError,
    KafkaConnectionError,
    KafkaTimeoutError,
    TimeoutError,
)
_MAX_CHAIN = 8


def _is_transient_one(exc: BaseException) -> bool:
    if isinstance(exc, _TRANSIENT):
        return True
    if isinstance(exc, PyMongoError) and exc.timeout:
        return True
    return isinstance(exc, KafkaError) and bool(getattr(exc, "retriable", False))


def is_transient(exc: BaseException) -> bool:
    """Return whether ``exc`` (or what caused it) is an outage worth waiting out."""
    seen: BaseException | None = exc
    for _ in range(_MAX_CHAIN):
        if seen is None:
            return False
        if _is_transient_one(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False

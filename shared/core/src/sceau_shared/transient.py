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

import asyncio
import logging
from collections.abc import Awaitable, Callable

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


_log = logging.getLogger(__name__)


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


async def once_through_outages(
    step: Callable[[], Awaitable[object]],
    *,
    what: str,
    retry_s: float = 30.0,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Run ``step`` until it completes once: an outage is waited out, anything else is raised.

    For one-time background work (back-fills, index builds) that must finish whatever the
    database does meanwhile, without retrying a bug forever.
    """
    while True:
        try:
            await step()
        except Exception as exc:
            if not is_transient(exc):
                raise
            _log.warning(
                "%s: a dependency is unavailable (%s); retrying in %.0f s",
                what,
                type(exc).__name__,
                retry_s,
            )
            await sleep(retry_s)
            continue
        return

"""The one "wait until it happened" helper of the tests, the demo and the benchmarks.

Everything Sceau does across services is asynchronous (events, outboxes, background loops), so a
test or a demo step observes an outcome by polling for it. One helper keeps the polling and its
failure message the same everywhere: on timeout it says what was awaited, for how long, and the
last value seen, plus any details the caller can add (the end of a service's log).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, overload

__all__ = ["eventually", "eventually_sync"]

T = TypeVar("T")

ErrorFactory = Callable[[str], BaseException]


def _failure(
    message: str,
    timeout_s: float,
    last: Any,
    details: Callable[[], str] | None,
    error: ErrorFactory,
) -> BaseException:
    text = f"{message}: not reached within {timeout_s:g} s (last: {last!r})"
    if details is not None:
        extra = details()
        if extra:
            text = f"{text}\n{extra}"
    return error(text)


@overload
async def eventually(
    check: Callable[[], Awaitable[T]],
    *,
    timeout_s: float,
    message: str,
    interval_s: float = ...,
    error: ErrorFactory = ...,
    details: Callable[[], str] | None = ...,
) -> T: ...


@overload
async def eventually(
    check: Callable[[], T],
    *,
    timeout_s: float,
    message: str,
    interval_s: float = ...,
    error: ErrorFactory = ...,
    details: Callable[[], str] | None = ...,
) -> T: ...


async def eventually(
    check: Callable[[], Any],
    *,
    timeout_s: float,
    message: str,
    interval_s: float = 0.1,
    error: ErrorFactory = AssertionError,
    details: Callable[[], str] | None = None,
) -> Any:
    """Call ``check`` (sync or async) until it returns something truthy; return that value.

    Args:
        check: What to poll; an exception it raises is not caught (a dead process should fail
            the wait at once, not after the timeout).
        timeout_s: How long to keep polling.
        message: What is awaited, for the failure message.
        interval_s: Pause between two calls.
        error: Builds the exception raised on timeout (``AssertionError`` in tests; the demo
            raises its own step failure).
        details: Called on timeout only, its text is appended (e.g. the end of a log).

    Raises:
        Exception: ``error(...)`` on timeout, naming ``message``, the timeout and the last value.
    """
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        last: Any = await value if inspect.isawaitable(value) else value
        if last:
            return last
        if time.monotonic() >= deadline:
            raise _failure(message, timeout_s, last, details, error)
        await asyncio.sleep(interval_s)


def eventually_sync(
    check: Callable[[], T],
    *,
    timeout_s: float,
    message: str,
    interval_s: float = 0.2,
    error: ErrorFactory = AssertionError,
    details: Callable[[], str] | None = None,
) -> T:
    """The blocking twin of :func:`eventually`, for code without an event loop (process start)."""
    deadline = time.monotonic() + timeout_s
    while True:
        last = check()
        if last:
            return last
        if time.monotonic() >= deadline:
            raise _failure(message, timeout_s, last, details, error)
        time.sleep(interval_s)

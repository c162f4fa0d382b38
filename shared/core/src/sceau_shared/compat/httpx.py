"""The httpx internal the SSRF guard needs: the transport's httpcore connection pool.

``httpx.AsyncHTTPTransport`` builds an ``httpcore.AsyncConnectionPool`` and offers no parameter
for httpcore's ``network_backend``, the one hook where every TCP connection can be checked at
connect time (:class:`sceau_shared.ssrf.GuardedTransport`, against DNS rebinding). So the guard
replaces the pool the transport built with one using its own backend.

Internal used (checked against httpx 0.28.x, 0.28.1 installed; ``httpx<1`` in
``shared/core/pyproject.toml``): ``AsyncHTTPTransport._pool``, the pool every request goes
through (``handle_async_request`` and ``aclose`` read it).

What breaks if it moves: :func:`set_connection_pool` raises :class:`UnsupportedLibraryError`
when the attribute is gone; if httpx kept the attribute but stopped sending requests through it,
the guard would silently stop checking addresses — ``tests/unit/foundation/test_compat.py`` and
the SSRF tests check that a connection really goes through the installed pool.
"""

from __future__ import annotations

import httpcore
import httpx

from sceau_shared.compat import reaching_into

__all__ = ["set_connection_pool"]


def set_connection_pool(
    transport: httpx.AsyncHTTPTransport, pool: httpcore.AsyncConnectionPool
) -> None:
    """Make ``transport`` send every request through ``pool`` (call before its first request)."""
    with reaching_into("httpx", "AsyncHTTPTransport._pool", "sceau_shared.compat.httpx"):
        if not isinstance(transport._pool, httpcore.AsyncConnectionPool):
            raise AttributeError("AsyncHTTPTransport._pool is not an httpcore connection pool")
        transport._pool = pool

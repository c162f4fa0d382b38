"""Learner, share and claim responses: never cached, never indexed, never sent as a referrer.

The path of every learner, share, claim-link and wallet-offer request holds a bearer token, so
the SERVER span's path attributes are replaced with the route template (the token must not reach
the trace store), and the responses tell browsers and proxies to keep nothing.
"""

from __future__ import annotations

import logging

from fastapi import Request
from opentelemetry import trace
from starlette.types import ASGIApp, Message, Receive, Scope, Send

PRIVATE_PREFIXES = ("/learn", "/v1/shares/", "/v1/claim/", "/oid4vci/", "/vcapi/", "/insights/")
PRIVATE_HEADERS = (
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
    (b"x-robots-tag", b"noindex"),
)
_PATH_ATTRIBUTES = ("url.path", "http.target")
_URL_ATTRIBUTES = ("url.full", "http.url")


def is_private(path: str) -> bool:
    """Whether a request path carries a learner, share, claim or wallet-offer token."""
    return path == "/learn" or path.startswith(PRIVATE_PREFIXES)


class PrivateResponses:
    """ASGI middleware adding the no-store/no-referrer/noindex headers on private paths."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not is_private(scope["path"]):
            await self._app(scope, receive, send)
            return

        async def private_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                names = {name.lower() for name, _ in PRIVATE_HEADERS}
                headers = [h for h in message.get("headers", []) if h[0].lower() not in names]
                message["headers"] = headers + list(PRIVATE_HEADERS)
            await send(message)

        await self._app(scope, receive, private_send)


async def redact_span(request: Request) -> None:
    """Replace the token-bearing path on the current SERVER span with the route template.

    Used as a router dependency: it runs inside the request's SERVER span, before the handler.
    """
    span = trace.get_current_span()
    if not span.is_recording():
        return
    route = getattr(request.scope.get("route"), "path", None) or "/learn"
    for name in _PATH_ATTRIBUTES:
        span.set_attribute(name, route)
    for name in _URL_ATTRIBUTES:
        span.set_attribute(name, f"{request.base_url}".rstrip("/") + route)


ACCESS_LOGGER = "uvicorn.access"


def redact_path(path: str) -> str:
    """A request path with the token of a learner or share route replaced."""
    if path.startswith("/learn/"):
        rest = path[len("/learn/") :]
        token, _, tail = rest.partition("/")
        tail = tail.split("?", 1)[0]
        return "/learn/[token]" + (f"/{tail}" if tail else "") if token else path
    if path.startswith("/v1/shares/"):
        return "/v1/shares/[token]"
    if path.startswith("/v1/claim/"):
        return "/v1/claim/[token]"
    if path.startswith("/insights/"):
        return "/insights/[token]"
    if path.startswith("/oid4vci/") and "/offers/" in path:
        return path.split("/offers/", 1)[0] + "/offers/[token]"
    if path.startswith("/vcapi/") and "/exchanges/" in path:
        return path.split("/exchanges/", 1)[0] + "/exchanges/[token]"
    return path


class PrivatePathFilter(logging.Filter):
    """Mask learner and share tokens in the server's access log lines."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the path argument of an access log record (uvicorn's 5-tuple)."""
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], redact_path(args[2]), args[3], args[4])
        return True


def install_access_log_filter() -> None:
    """Attach :class:`PrivatePathFilter` to the access logger once per process."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, PrivatePathFilter) for f in logger.filters):
        logger.addFilter(PrivatePathFilter())

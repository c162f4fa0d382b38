"""Check an institution's API key before the request body is read.

FastAPI reads and parses a JSON body before it runs a route's dependencies, and the body limit
middleware buffers it even earlier: without this gate an anonymous caller could make the issuer
hold and parse up to ``http.max_body_bytes`` (8 MiB) per request on every keyed route. The gate
is ASGI middleware in front of both. For a request with a body on a route that needs an API key
it authenticates the key first and answers the same 401 problem the route would, without
receiving a byte of the body. The principal it found travels in the ASGI scope, so the route's
dependency does not look the key up a second time. Scope checks (403) stay in the dependency.

The gate's key lookup must run under the request's MongoDB deadline (a paused database answers
503 in time): the app puts a deadline middleware outside the gate (see ``sceau_issuer.app``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from sceau_issuer.apikeys.service import Principal
from sceau_issuer.errors import InvalidApiKey
from sceau_shared.errors import ServiceError
from sceau_shared.http.problems import problem_response

__all__ = ["PRINCIPAL_KEY", "ApiKeyGate", "keyed_principal"]

_log = logging.getLogger(__name__)

PRINCIPAL_KEY = "sceau.api_principal"
"""ASGI scope key holding ``(token, principal)`` once the gate has authenticated the request."""

_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


def keyed_principal(scope: Scope, token: str) -> Principal | None:
    """The principal the gate found for ``token`` in this request, if it ran."""
    found = scope.get(PRINCIPAL_KEY)
    if found is not None and found[0] == token:
        principal: Principal = found[1]
        return principal
    return None


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"authorization":
            scheme, token = get_authorization_scheme_param(value.decode("latin-1"))
            return token if scheme.lower() == "bearer" and token else None
    return None


def _needs(dependant: Dependant, marker: object) -> bool:
    return any(d.call is marker or _needs(d, marker) for d in dependant.dependencies)


class ApiKeyGate:
    """Refuse requests with a body on API-key routes before reading it, unless the key is valid.

    ``routers`` are the service's routers, in the order the app includes them; ``marker`` is the
    dependency that authenticates the caller: a route needs a key when its dependency tree
    contains it (read from the routes, so a new route is covered without a list to keep).
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        routers: Iterable[APIRouter],
        marker: object,
    ) -> None:
        self.app = app
        # Routes that take a body, each with whether it needs a key, in matching order.
        self._candidates: list[tuple[BaseRoute, bool]] = [
            (route, _needs(route.dependant, marker))
            for router in routers
            for route in router.routes
            if isinstance(route, APIRoute) and set(route.methods or ()) - _BODYLESS
        ]

    def _needs_key(self, scope: Scope) -> bool:
        # The first full match is the route the app will run (the routers' own order).
        for route, keyed in self._candidates:
            match, _ = route.matches(scope)
            if match is Match.FULL:
                return keyed
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in _BODYLESS or not self._needs_key(scope):
            await self.app(scope, receive, send)
            return
        graph: Any = scope.get("state", {}).get("graph")
        if graph is None:  # not started yet: the route answers as it would
            await self.app(scope, receive, send)
            return
        token = _bearer(scope)
        try:
            if token is None:
                raise InvalidApiKey("an API key is required (Authorization: Bearer …)")
            principal: Principal = await graph.api_keys.authenticate(token)
        except ServiceError as exc:
            _log.debug("request refused before its body: %s", exc.detail)
            response = problem_response(
                exc.status,
                title=exc.title,
                detail=exc.detail,
                type_=exc.type,
                instance=scope.get("path", ""),
            )
            await response(scope, receive, send)
            return
        except Exception:  # noqa: BLE001 - e.g. an outage: the route's dependency answers (503)
            await self.app(scope, receive, send)
            return
        scope[PRINCIPAL_KEY] = (token, principal)
        await self.app(scope, receive, send)

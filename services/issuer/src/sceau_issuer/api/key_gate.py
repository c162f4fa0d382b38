"""Check an institution's API key before the request body is read.

FastAPI reads and parses a JSON body before it runs a route's dependencies, and the body limit
middleware buffers it even earlier: without this gate an anonymous caller could make the issuer
hold and parse up to ``http.max_body_bytes`` (8 MiB) per request on every keyed route. The gate
is ASGI middleware in front of both. For a request with a body on a route that needs an API key
it authenticates the key first and answers the same 401 problem the route would, without
receiving a byte of the body. The principal it found travels in the ASGI scope, so the route's
dependency does not look the key up a second time. Scope checks (403) stay in the dependency.
When the key was seen valid before, the gate also reads its institution while checking it (one
round trip instead of two in a row) and hands that tenant on too; it is used only if the key
turns out valid and of that institution.

The gate's key lookup must run under the request's MongoDB deadline (a paused database answers
503 in time): the app puts a deadline middleware outside the gate (see ``sceau_issuer.app``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from fastapi.security.utils import get_authorization_scheme_param
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Receive, Scope, Send

from sceau_issuer.apikeys.service import Principal
from sceau_issuer.errors import InvalidApiKey
from sceau_issuer.tenants.models import Tenant
from sceau_shared.errors import ServiceError
from sceau_shared.http.problems import problem_response

__all__ = ["PRINCIPAL_KEY", "ApiKeyGate", "Keyed", "keyed"]

_log = logging.getLogger(__name__)

PRINCIPAL_KEY = "sceau.api_principal"
"""ASGI scope key holding a :class:`Keyed` once the gate has authenticated the request."""

_BODYLESS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class Keyed:
    """What the gate found for a request's token: its principal and, when read, its tenant."""

    token: str = field(repr=False)
    principal: Principal
    tenant: Tenant | None
    """Read while the key was checked (the key's institution was known): a read that started
    after the request arrived, like the route's own would. ``None``: the route reads it."""


def keyed(scope: Scope, token: str) -> Keyed | None:
    """What the gate found for ``token`` in this request, if it ran."""
    found = scope.get(PRINCIPAL_KEY)
    if isinstance(found, Keyed) and found.token == token:
        return found
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
        # The institution is read while the key is checked (one round trip instead of two in
        # a row) when the key was seen before; whatever that read answers is used only if the
        # key turns out valid and of that institution.
        hint = None if token is None else graph.api_keys.institution_hint(token)
        early = None if hint is None else asyncio.ensure_future(graph.tenants.get(hint))
        try:
            if token is None:
                raise InvalidApiKey("an API key is required (Authorization: Bearer …)")
            principal: Principal = await graph.api_keys.authenticate(token)
        except ServiceError as exc:
            _drop(early)
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
        except asyncio.CancelledError:
            _drop(early)
            raise
        except Exception:  # noqa: BLE001 - e.g. an outage: the route's dependency answers (503)
            _drop(early)
            await self.app(scope, receive, send)
            return
        tenant = None
        if principal.institution_id == hint:
            tenant = await _settled(early)
        else:
            _drop(early)
        scope[PRINCIPAL_KEY] = Keyed(token, principal, tenant)
        await self.app(scope, receive, send)


def _drop(read: asyncio.Future[Tenant] | None) -> None:
    """Let go of an early tenant read whose answer is not used (its error included)."""
    if read is not None:
        read.cancel()
        read.add_done_callback(lambda done: done.cancelled() or done.exception())


async def _settled(read: asyncio.Future[Tenant] | None) -> Tenant | None:
    """The early read's tenant; ``None`` if it failed (the route reads again and answers)."""
    if read is None:
        return None
    try:
        return await read
    except Exception:  # noqa: BLE001 - e.g. no such tenant: the route's own read says so
        return None

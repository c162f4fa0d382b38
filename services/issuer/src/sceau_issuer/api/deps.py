"""Request dependencies: the service graph, the authenticated institution, paging, idempotency."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Header, Query, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from sceau_issuer.api.key_gate import keyed
from sceau_issuer.apikeys.service import Principal, Scope
from sceau_issuer.errors import InvalidApiKey
from sceau_issuer.graph import IssuerGraph
from sceau_issuer.tenants.models import Tenant
from sceau_shared.service import graph_of

bearer = HTTPBearer(auto_error=False, description="An institution API key: sceau.<id>.<secret>")

AUTH_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid API key"},
    403: {"description": "The API key lacks the required scope"},
}


GraphDep = Annotated[IssuerGraph, Depends(graph_of)]
"""The process's object graph (built in the lifespan, before the first request)."""


@dataclass(frozen=True)
class Caller:
    """The authenticated institution and its tenant record."""

    principal: Principal
    tenant: Tenant


async def authenticated_caller(
    request: Request,
    graph: GraphDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Caller:
    """The institution behind the bearer key (401 otherwise).

    Requests with a body were already checked by :class:`~sceau_issuer.api.key_gate.ApiKeyGate`
    before their body was read; its answer (and the tenant, when it read it) is reused instead
    of a second lookup.
    """
    if credentials is None:
        raise InvalidApiKey("an API key is required (Authorization: Bearer …)")
    found = keyed(request.scope, credentials.credentials)
    if found is not None and found.tenant is not None:
        return Caller(found.principal, found.tenant)
    principal = (
        found.principal
        if found is not None
        else await graph.api_keys.authenticate(credentials.credentials)
    )
    tenant = await graph.tenants.get(principal.institution_id)
    return Caller(principal, tenant)


def _require(scope: Scope) -> Any:
    """Dependency factory: the caller, checked for ``scope``."""

    async def dependency(caller: Annotated[Caller, Depends(authenticated_caller)]) -> Caller:
        caller.principal.require(scope)
        return caller

    return dependency


Reader = Annotated[Caller, Depends(_require(Scope.READ))]
IssuerCaller = Annotated[Caller, Depends(_require(Scope.ISSUE))]
Revoker = Annotated[Caller, Depends(_require(Scope.REVOKE))]
Manager = Annotated[Caller, Depends(_require(Scope.MANAGE))]


IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="Required on issuing calls; a retry with the same key returns the first "
        "answer and never issues twice.",
    ),
]


@dataclass(frozen=True)
class Paging:
    """Page number (1-based) and size."""

    page: int
    page_size: int

    @property
    def skip(self) -> int:
        """Documents to skip."""
        return (self.page - 1) * self.page_size


def paging(
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> Paging:
    """Pagination parameters."""
    return Paging(page, page_size)


PagingDep = Annotated[Paging, Depends(paging)]

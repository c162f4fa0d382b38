"""Operator (governance) HTTP API under ``/v1/admin``: bearer operator token, everything audited.

The token check is the shared :class:`~sceau_shared.http.operator.OperatorAuthMiddleware`
(declared in the app's ``ServiceDefinition.operator``): it runs *before* routing and body parsing,
so a caller without the token learns nothing — not even whether its body would have been valid —
and always gets 401. The ``Security`` dependency here only documents the scheme in OpenAPI.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Security
from fastapi.security import HTTPBearer

from sceau_registry.api.deps import PROBLEMS, GraphDep, InstitutionIdPath
from sceau_registry.schemas import (
    AuditEntry,
    AuditList,
    Category,
    ChangeStatus,
    GrantScope,
    OperatorInstitutionView,
    RegisterInstitution,
    ScopeView,
    WithdrawScope,
)
from sceau_shared.events import InstitutionStatus, utcnow
from sceau_shared.http import PROBLEM_MEDIA_TYPE

__all__ = ["ADMIN_PREFIX", "router"]

ADMIN_PREFIX = "/v1/admin"
ACTOR_HEADER = "X-Sceau-Actor"
_bearer = HTTPBearer(auto_error=False, description="REGISTRY_OPERATOR_TOKEN")

Actor = Annotated[
    str,
    Header(
        alias=ACTOR_HEADER,
        pattern=r"^[A-Za-z0-9._@+-]{1,64}$",
        description="Who is acting (recorded in the audit log).",
    ),
]

_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEMS,
    401: {"description": "Missing or wrong operator token"},
    409: {
        "description": "Not allowed in the current state",
        "content": {PROBLEM_MEDIA_TYPE: {}},
    },
}
router = APIRouter(
    prefix=ADMIN_PREFIX,
    tags=["operator"],
    dependencies=[Security(_bearer)],
    responses=_RESPONSES,
)
"""Governance routes; ``OperatorAuthMiddleware`` has checked the token before they run."""


@router.post(
    "/institutions",
    status_code=201,
    response_model=OperatorInstitutionView,
    summary="Register an institution (pending)",
)
async def register(
    graph: GraphDep, body: RegisterInstitution, actor: Actor = "operator"
) -> OperatorInstitutionView:
    """Publishes InstitutionRegisteredV1: the issuer creates the tenant and its key."""
    inst = await graph.governance.register(body, actor=actor)
    return OperatorInstitutionView.full(inst, utcnow())


@router.get(
    "/institutions",
    response_model=list[OperatorInstitutionView],
    summary="Institutions with operator details",
)
async def list_all(
    graph: GraphDep,
    status: InstitutionStatus | None = None,
    category: Category | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[OperatorInstitutionView]:
    """A page of institutions, including contacts and lifecycle history."""
    found = await graph.trust.page(
        status=status, category=category, q=q, page=page, page_size=page_size
    )
    now = utcnow()
    return [OperatorInstitutionView.full(inst, now) for inst in found.items]


@router.get(
    "/institutions/{institution_id}",
    response_model=OperatorInstitutionView,
    summary="One institution with operator details",
)
async def get_one(graph: GraphDep, institution_id: InstitutionIdPath) -> OperatorInstitutionView:
    """Including contact and the lifecycle history."""
    inst = await graph.governance.get(institution_id)
    return OperatorInstitutionView.full(inst, utcnow())


@router.post(
    "/institutions/{institution_id}/status",
    response_model=OperatorInstitutionView,
    summary="Change lifecycle status",
)
async def change_status(
    graph: GraphDep,
    institution_id: InstitutionIdPath,
    body: ChangeStatus,
    actor: Actor = "operator",
) -> OperatorInstitutionView:
    """Activate, suspend, reinstate or retire; publishes AccreditationChangedV1."""
    inst = await graph.governance.change_status(institution_id, body, actor=actor)
    return OperatorInstitutionView.full(inst, utcnow())


@router.post(
    "/institutions/{institution_id}/scopes",
    status_code=201,
    response_model=ScopeView,
    summary="Grant an accreditation scope",
)
async def grant(
    graph: GraphDep,
    institution_id: InstitutionIdPath,
    body: GrantScope,
    actor: Actor = "operator",
) -> ScopeView:
    """Publishes AccreditationChangedV1."""
    _, scope = await graph.governance.grant_scope(institution_id, body, actor=actor)
    return ScopeView.of(scope)


@router.post(
    "/institutions/{institution_id}/scopes/{scope_id}/withdraw",
    response_model=OperatorInstitutionView,
    summary="Withdraw an accreditation scope",
)
async def withdraw(
    graph: GraphDep,
    institution_id: InstitutionIdPath,
    scope_id: Annotated[str, Path(pattern=r"^[a-f0-9]{32}$")],
    body: WithdrawScope,
    actor: Actor = "operator",
) -> OperatorInstitutionView:
    """The scope is kept with the date it ended; publishes AccreditationChangedV1."""
    inst = await graph.governance.withdraw_scope(institution_id, scope_id, body, actor=actor)
    return OperatorInstitutionView.full(inst, utcnow())


@router.get("/audit", response_model=AuditList, summary="The append-only audit log")
async def audit(
    graph: GraphDep,
    institution_id: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=500)] = 100,
) -> AuditList:
    """Oldest first; entries are never edited or removed."""
    entries, total = await graph.governance.audit(
        institution_id=institution_id, page=page, page_size=page_size
    )
    return AuditList(
        items=[
            AuditEntry(
                id=str(e["_id"]),
                at=e["at"],
                actor=e["actor"],
                action=e["action"],
                institution_id=e.get("institution_id"),
                reason=e.get("reason", ""),
                details=e.get("details") or {},
            )
            for e in entries
        ],
        page=page,
        page_size=page_size,
        total=total,
    )

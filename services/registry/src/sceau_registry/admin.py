"""Operator (governance) HTTP API under ``/v1/admin``: bearer operator token, everything audited.

The token check runs as ASGI middleware *before* routing and body parsing, so a caller without the
token learns nothing — not even whether its body would have been valid — and always gets 401.
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Security
from fastapi.security import HTTPBearer
from pydantic import SecretStr
from starlette.types import ASGIApp, Receive, Scope, Send

from sceau_registry.api import PROBLEMS, Deps, InstitutionIdPath
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
from sceau_shared.errors import PROBLEM_BASE
from sceau_shared.events import InstitutionStatus, utcnow
from sceau_shared.http import PROBLEM_MEDIA_TYPE

_log = logging.getLogger(__name__)

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


class OperatorAuthMiddleware:
    """Refuse every ``/v1/admin`` request that lacks the operator bearer token (401)."""

    def __init__(self, app: ASGIApp, *, token: SecretStr, prefix: str = ADMIN_PREFIX) -> None:
        self.app = app
        self._expected = f"Bearer {token.get_secret_value()}".encode()
        self._prefix = prefix

    def _authorized(self, scope: Scope) -> bool:
        for name, value in scope.get("headers", []):
            if name == b"authorization":
                # Constant-time comparison so response timing does not reveal the token.
                return hmac.compare_digest(value, self._expected)
        return False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        guarded = path == self._prefix or path.startswith(self._prefix + "/")
        if scope["type"] != "http" or not guarded or self._authorized(scope):
            await self.app(scope, receive, send)
            return
        _log.warning("operator API call refused: missing or wrong token (%s)", path)
        body = json.dumps(
            {
                "type": PROBLEM_BASE + "unauthorized",
                "title": "Authentication required",
                "status": 401,
                "detail": "The operator API needs 'Authorization: Bearer <operator token>'.",
                "instance": path,
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 401,
                "headers": [
                    (b"content-type", PROBLEM_MEDIA_TYPE.encode()),
                    (b"content-length", str(len(body)).encode()),
                    (b"www-authenticate", b'Bearer realm="sceau-registry"'),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def build_admin_router() -> APIRouter:
    """Governance routes (the middleware has already checked the token)."""
    responses: dict[int | str, dict[str, Any]] = {
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
        responses=responses,
    )

    @router.post(
        "/institutions",
        status_code=201,
        response_model=OperatorInstitutionView,
        summary="Register an institution (pending)",
    )
    async def register(
        deps: Deps, body: RegisterInstitution, actor: Actor = "operator"
    ) -> OperatorInstitutionView:
        """Publishes InstitutionRegisteredV1: the issuer creates the tenant and its key."""
        inst = await deps.governance.register(body, actor=actor)
        return OperatorInstitutionView.full(inst, utcnow())

    @router.get(
        "/institutions",
        response_model=list[OperatorInstitutionView],
        summary="Institutions with operator details",
    )
    async def list_all(
        deps: Deps,
        status: InstitutionStatus | None = None,
        category: Category | None = None,
        q: Annotated[str | None, Query(max_length=100)] = None,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=200)] = 50,
    ) -> list[OperatorInstitutionView]:
        """A page of institutions, including contacts and lifecycle history."""
        found = await deps.trust.page(
            status=status, category=category, q=q, page=page, page_size=page_size
        )
        now = utcnow()
        return [OperatorInstitutionView.full(inst, now) for inst in found.items]

    @router.get(
        "/institutions/{institution_id}",
        response_model=OperatorInstitutionView,
        summary="One institution with operator details",
    )
    async def get_one(deps: Deps, institution_id: InstitutionIdPath) -> OperatorInstitutionView:
        """Including contact and the lifecycle history."""
        inst = await deps.governance.get(institution_id)
        return OperatorInstitutionView.full(inst, utcnow())

    @router.post(
        "/institutions/{institution_id}/status",
        response_model=OperatorInstitutionView,
        summary="Change lifecycle status",
    )
    async def change_status(
        deps: Deps,
        institution_id: InstitutionIdPath,
        body: ChangeStatus,
        actor: Actor = "operator",
    ) -> OperatorInstitutionView:
        """Activate, suspend, reinstate or retire; publishes AccreditationChangedV1."""
        inst = await deps.governance.change_status(institution_id, body, actor=actor)
        return OperatorInstitutionView.full(inst, utcnow())

    @router.post(
        "/institutions/{institution_id}/scopes",
        status_code=201,
        response_model=ScopeView,
        summary="Grant an accreditation scope",
    )
    async def grant(
        deps: Deps,
        institution_id: InstitutionIdPath,
        body: GrantScope,
        actor: Actor = "operator",
    ) -> ScopeView:
        """Publishes AccreditationChangedV1."""
        _, scope = await deps.governance.grant_scope(institution_id, body, actor=actor)
        return ScopeView.of(scope)

    @router.post(
        "/institutions/{institution_id}/scopes/{scope_id}/withdraw",
        response_model=OperatorInstitutionView,
        summary="Withdraw an accreditation scope",
    )
    async def withdraw(
        deps: Deps,
        institution_id: InstitutionIdPath,
        scope_id: Annotated[str, Path(pattern=r"^[a-f0-9]{32}$")],
        body: WithdrawScope,
        actor: Actor = "operator",
    ) -> OperatorInstitutionView:
        """The scope is kept with the date it ended; publishes AccreditationChangedV1."""
        inst = await deps.governance.withdraw_scope(institution_id, scope_id, body, actor=actor)
        return OperatorInstitutionView.full(inst, utcnow())

    @router.get("/audit", response_model=AuditList, summary="The append-only audit log")
    async def audit(
        deps: Deps,
        institution_id: Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")] = None,
        page: Annotated[int, Query(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> AuditList:
        """Oldest first; entries are never edited or removed."""
        entries, total = await deps.governance.audit(
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

    return router


__all__ = ["ADMIN_PREFIX", "OperatorAuthMiddleware", "build_admin_router"]

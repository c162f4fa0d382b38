"""``GET /v1/shares/{token}``: the document behind a share link, for the verifier (public)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request

from sceau_issuer.api.deps import GraphDep
from sceau_issuer.learners.privacy import redact_span

router = APIRouter(prefix="/v1/shares", tags=["shares"], dependencies=[Depends(redact_span)])

SHARE_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["share_id", "institution_id", "credential_id", "expires_at", "hidden", "document"],
    "properties": {
        "share_id": {"type": "string"},
        "institution_id": {"type": "string"},
        "credential_id": {"type": "string"},
        "expires_at": {"type": ["string", "null"], "format": "date-time"},
        "hidden": {"type": "array", "items": {"type": "string", "enum": ["result", "evidence"]}},
        "document": {
            "description": "The shared credential: JSON-LD object or compact VC-JWT",
            "oneOf": [{"type": "object"}, {"type": "string"}],
        },
    },
}


@router.get(
    "/{token}",
    responses={
        200: {
            "description": "The shared document",
            "content": {"application/json": {"schema": SHARE_ANSWER}},
        },
        404: {"description": "Unknown share, or a credential its learner has not accepted"},
        410: {"description": "Revoked or expired share (`reason`)"},
        429: {"description": "Too many requests"},
    },
    summary="Resolve a share link (public; used by the verifier's share page)",
)
async def resolve_share(
    token: Annotated[str, Path(min_length=1, max_length=512)], request: Request, graph: GraphDep
) -> dict[str, Any]:
    """The share's document and what it withholds; 404/410 as problem details."""
    graph.share_limiter.check(request.client.host if request.client else "unknown")
    return await graph.learners.resolve(token)

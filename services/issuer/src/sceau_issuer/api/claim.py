"""The learner's claim link: a signed, expiring token that downloads the signed credential."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import Response

from sceau_issuer.api.deps import GraphDep
from sceau_issuer.errors import ClaimLinkInvalid
from sceau_issuer.learners.privacy import redact_span

#: The token is a bearer secret: spans get the route template, logs a mask (learners.privacy).
router = APIRouter(prefix="/v1/claim", tags=["claim"], dependencies=[Depends(redact_span)])

#: The file a claim link downloads: JSON-LD (its shape is the credential engine's) or a JWT.
CREDENTIAL_FILE: dict[str, Any] = {
    "application/ld+json": {
        "schema": {
            "type": "object",
            "additionalProperties": True,
            "description": "The signed credential (JSON-LD with its proof: ob3-v1, ob3-v2)",
        }
    },
    "application/vc+jwt": {
        "schema": {"type": "string", "description": "The signed credential (compact JWT: jwt)"}
    },
}


@router.get(
    "/{token}",
    response_class=Response,
    response_model=None,
    responses={
        200: {"description": "The signed credential file", "content": CREDENTIAL_FILE},
        404: {"description": "Unknown, tampered or expired link"},
        429: {"description": "Too many requests"},
    },
    summary="Download a credential from its claim link (public)",
)
async def claim(
    token: Annotated[str, Path(min_length=10, max_length=512)], request: Request, graph: GraphDep
) -> Response:
    """Every failure looks the same (404), so a link reveals nothing about other credentials."""
    graph.claim_limiter.check(request.client.host if request.client else "unknown")
    claims = graph.vault.read_claim_token(token)
    if claims is None:
        raise ClaimLinkInvalid("this claim link is invalid or has expired")
    institution_id, credential_id = claims
    doc = await graph.credentials.get(institution_id, credential_id)
    if doc is None or doc.get("document") is None:
        raise ClaimLinkInvalid("this claim link is invalid or has expired")
    document = doc["document"]
    short = credential_id.split("-")[0]
    if isinstance(document, str):
        return Response(
            document,
            media_type="application/vc+jwt",
            headers={"Content-Disposition": f'attachment; filename="credential-{short}.jwt"'},
        )
    return Response(
        json.dumps(document, ensure_ascii=False, indent=2),
        media_type="application/ld+json",
        headers={"Content-Disposition": f'attachment; filename="credential-{short}.json"'},
    )

"""The learner's claim link: a signed, expiring token that downloads the signed credential."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi.responses import Response

from sceau_issuer.api.deps import Svc
from sceau_issuer.errors import ClaimLinkInvalid
from sceau_shared.http import RateLimiter

router = APIRouter(prefix="/v1/claim", tags=["claim"])


def limiter(request: Request) -> RateLimiter:
    """The app's rate limiter for public endpoints."""
    value: RateLimiter = request.app.state.claim_limiter
    return value


@router.get(
    "/{token}",
    responses={
        200: {
            "description": "The signed credential file",
            "content": {"application/ld+json": {}, "application/vc+jwt": {}},
        },
        404: {"description": "Unknown, tampered or expired link"},
        429: {"description": "Too many requests"},
    },
    summary="Download a credential from its claim link (public)",
)
async def claim(
    token: Annotated[str, Path(min_length=10, max_length=512)], request: Request, svc: Svc
) -> Response:
    """Every failure looks the same (404), so a link reveals nothing about other credentials."""
    limiter(request).check(request.client.host if request.client else "unknown")
    claims = svc.vault.read_claim_token(token)
    if claims is None:
        raise ClaimLinkInvalid("this claim link is invalid or has expired")
    institution_id, credential_id = claims
    doc = await svc.credentials.get(institution_id, credential_id)
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

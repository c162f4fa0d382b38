"""Public JSON API: ``POST /v1/verify`` and ``POST /v1/verify/batch`` (no account needed)."""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from sceau_shared.errors import ServiceError
from sceau_shared.http import RateLimiter
from sceau_verifier.i18n import negotiate
from sceau_verifier.inputs import parse_batch, parse_submission, submission_from_value
from sceau_verifier.proof_memo import ProofMemo
from sceau_verifier.schemas import (
    BatchItem,
    BatchItemError,
    BatchRequest,
    BatchResponse,
    Lang,
    VerifyRequest,
    VerifyResponse,
)
from sceau_verifier.service import VerificationService

__all__ = ["PAGE_ERRORS", "VerifierState", "client_key", "router"]

router = APIRouter(tags=["verification"])

_PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "The body cannot be read (not JSON, not UTF-8, nested too deeply)."}
    | _PROBLEM,
    413: {"description": "The body is larger than the limit."} | _PROBLEM,
    415: {"description": "Unsupported media type."} | _PROBLEM,
    422: {"description": "The body is readable but not a credential or presentation."} | _PROBLEM,
    429: {"description": "Too many requests from this client; see Retry-After."} | _PROBLEM,
}
#: The page answers unreadable input with HTML; parameter and limit errors are problems.
PAGE_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Nothing to verify or unreadable input (HTML), bad multipart (problem)."}
    | {"content": {"application/problem+json": {}, "text/html": {}}},
    413: _ERRORS[413],
    422: {"description": "Invalid parameters, or not a credential (problem or HTML)."}
    | {"content": {"application/problem+json": {}, "text/html": {}}},
    429: _ERRORS[429],
}


@dataclass(frozen=True)
class VerifierState:
    """What the routes need, built by the lifespan (see ``app.py``)."""

    service: VerificationService
    limiter: RateLimiter
    max_depth: int
    batch_max: int
    batch_concurrency: int = 8
    proofs: ProofMemo | None = None


async def _state(request: Request) -> VerifierState:
    state: VerifierState = request.state.verifier
    return state


StateDep = Annotated[VerifierState, Depends(_state)]
LangQuery = Annotated[
    str | None, Query(max_length=16, description="fr or en (else Accept-Language)")
]
AcceptLanguage = Annotated[str | None, Header(max_length=512)]


def client_key(request: Request) -> str:
    """The rate-limit key of a request: the peer address (a proxy must be configured to pass it)."""
    return request.client.host if request.client is not None else "unknown"


def _lang(lang: str | None, accept_language: str | None) -> Lang:
    return negotiate(lang, accept_language)


_VERIFY_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        VerifyRequest.model_json_schema(),
                        {
                            "type": "object",
                            "description": "A credential or presentation object itself.",
                            "additionalProperties": True,
                        },
                    ]
                }
            },
            "application/jwt": {"schema": {"type": "string", "description": "A VC-JWT."}},
        },
    }
}
_BATCH_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": BatchRequest.model_json_schema()}},
    }
}


@router.post(
    "/v1/verify",
    response_model=VerifyResponse,
    responses=_ERRORS,
    openapi_extra=_VERIFY_BODY,
    summary="Verify one credential or presentation",
)
async def verify(
    request: Request,
    state: StateDep,
    lang: LangQuery = None,
    challenge: Annotated[str | None, Query(max_length=512)] = None,
    domain: Annotated[str | None, Query(max_length=512)] = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    """Verify a credential or presentation and explain every check.

    Credentials of every engine profile are accepted: VCDM 2.0 with eddsa-rdfc-2022, VCDM 1.1
    with Ed25519Signature2020, and VC-JWT; or a VerifiablePresentation holding them.

    Send the credential itself as ``application/json``, or ``{"credential": …, "challenge": …,
    "domain": …}``, or a VC-JWT as ``application/jwt``. ``challenge``/``domain`` (body or query)
    are what a presentation's proof must carry. The answer is in ``?lang=`` or the
    ``Accept-Language`` language (fr/en); a credential that fails a check is a 200 answer with
    ``verified: false``, not an error.
    """
    state.limiter.check(client_key(request))
    raw = await request.body()
    submission = parse_submission(
        raw,
        request.headers.get("content-type"),
        max_depth=state.max_depth,
        challenge=challenge,
        domain=domain,
    )
    if state.proofs is not None:
        state.proofs.hint(submission.document, hashlib.sha256(raw).hexdigest())
    answer = await state.service.verify(
        submission.document,
        lang=_lang(lang, accept_language),
        challenge=submission.challenge,
        domain=submission.domain,
    )
    # The answer is already a validated VerifyResponse: serialise it once (FastAPI would
    # validate it again and go through a dict and json.dumps; the OpenAPI schema is unchanged).
    return Response(answer.model_dump_json(), media_type="application/json")


def _item_error(exc: ServiceError) -> BatchItemError:
    return BatchItemError(type=exc.type, title=exc.title, status=exc.status, detail=exc.detail)


@router.post(
    "/v1/verify/batch",
    response_model=BatchResponse,
    responses=_ERRORS,
    openapi_extra=_BATCH_BODY,
    summary="Verify up to 100 credentials",
)
async def verify_batch(
    request: Request,
    state: StateDep,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> BatchResponse:
    """Verify up to 100 credentials (objects or VC-JWT strings) in one call.

    Answers come in request order. An item that is not a credential at all gets an ``error``
    (problem details) instead of a ``result``; the other items are still verified. A batch
    costs one rate-limit token per 10 credentials.
    """
    key = client_key(request)
    state.limiter.check(key)
    raw = await request.body()
    items = parse_batch(
        raw,
        request.headers.get("content-type"),
        max_depth=state.max_depth,
        limit=state.batch_max,
    )
    for _ in range(1, (len(items) + 9) // 10):
        state.limiter.check(key)
    chosen = _lang(lang, accept_language)
    gate = asyncio.Semaphore(state.batch_concurrency)

    async def one(index: int, value: Any) -> BatchItem:
        try:
            submission = submission_from_value(value, pointer=f"/credentials/{index}")
        except ServiceError as exc:
            return BatchItem(index=index, error=_item_error(exc))
        async with gate:
            result = await state.service.verify(
                submission.document,
                lang=chosen,
                challenge=submission.challenge,
                domain=submission.domain,
            )
        return BatchItem(index=index, result=result)

    results = await asyncio.gather(*(one(i, v) for i, v in enumerate(items)))
    return BatchResponse(
        count=len(results),
        verified=sum(1 for r in results if r.result is not None and r.result.verified),
        results=list(results),
    )

"""Public JSON API: ``POST /v1/verify`` and ``POST /v1/verify/batch`` (no account needed)."""

from __future__ import annotations

import asyncio
import hashlib
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from starlette.datastructures import UploadFile

from sceau_shared.errors import ServiceError
from sceau_verifier.api.deps import AcceptLanguage, GraphDep, LangQuery, client_key
from sceau_verifier.api.responses import API_ERRORS
from sceau_verifier.baked import IMAGE_MEDIA_TYPES, MAX_IMAGE_BYTES, ImageKind, image_kind, unbake
from sceau_verifier.errors import MalformedBody
from sceau_verifier.i18n import negotiate
from sceau_verifier.inputs import (
    Submission,
    media_type,
    parse_batch,
    parse_submission,
    submission_from_value,
)
from sceau_verifier.kept_answers import KeptVerification, question_key
from sceau_verifier.schemas import (
    BatchItem,
    BatchItemError,
    BatchRequest,
    BatchResponse,
    VerifyRequest,
    VerifyResponse,
)

__all__ = ["router"]

router = APIRouter(tags=["verification"])


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
            "image/png": {
                "schema": {
                    "type": "string",
                    "format": "binary",
                    "description": "A baked badge: iTXt chunk openbadgecredential (≤ 1 MiB).",
                }
            },
            "image/svg+xml": {
                "schema": {
                    "type": "string",
                    "description": "A baked badge: <openbadges:credential> (≤ 1 MiB).",
                }
            },
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "description": "An uploaded file: a baked PNG/SVG badge, or a credential "
                    "file (JSON or VC-JWT).",
                }
            },
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
    responses=API_ERRORS,
    openapi_extra=_VERIFY_BODY,
    summary="Verify one credential or presentation",
)
async def verify(
    request: Request,
    graph: GraphDep,
    lang: LangQuery = None,
    challenge: Annotated[str | None, Query(max_length=512)] = None,
    domain: Annotated[str | None, Query(max_length=512)] = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    """Verify a credential or presentation and explain every check.

    Credentials of every engine profile are accepted: VCDM 2.0 with eddsa-rdfc-2022, VCDM 1.1
    with Ed25519Signature2020, and VC-JWT; or a VerifiablePresentation holding them.

    Send the credential itself as ``application/json``, or ``{"credential": …, "challenge": …,
    "domain": …}``, or a VC-JWT as ``application/jwt``, or a baked badge (the credential inside
    its PNG or SVG image) as ``image/png`` / ``image/svg+xml`` or as the ``file`` field of a
    ``multipart/form-data`` upload; an image that carries no readable credential is a 400
    problem explained in French and English (``detail_fr``, ``detail_en``).
    ``challenge``/``domain`` (body or query) are what a presentation's proof must carry. The
    answer is in ``?lang=`` or the ``Accept-Language`` language (fr/en); a credential that fails
    a check is a 200 answer with ``verified: false``, not an error.
    """
    graph.limiter.check(client_key(request))
    chosen = negotiate(lang, accept_language)
    raw = await request.body()
    content_type = request.headers.get("content-type")
    media = media_type(content_type)
    # The answer is kept for the same question asked again within seconds (kept_answers.py
    # says what keeps it true); the gate in front of the router sends it (api/kept_gate.py).
    generation = graph.answers.generation
    key = question_key(hashlib.sha256(raw).hexdigest(), media, chosen, challenge, domain)
    kind: ImageKind | None = None
    if media == "multipart/form-data":
        raw, declared = await _uploaded(request)
        kind = image_kind(raw, declared)
        if kind is None:
            raw = raw.strip()
        content_type = _text_type(raw)
    elif media in IMAGE_MEDIA_TYPES:
        kind = image_kind(raw, media)
    submission: Submission
    if kind is not None:
        submission = unbake(raw, kind, lang=chosen, max_depth=graph.limits.max_depth).submission
        submission = Submission(submission.document, challenge, domain)
    else:
        submission = parse_submission(
            raw,
            content_type,
            max_depth=graph.limits.max_depth,
            challenge=challenge,
            domain=domain,
        )
    # Uploads and images (never kept) are hinted by the bytes of the credential file itself.
    digest = key[0] if key is not None else hashlib.sha256(raw).hexdigest()
    graph.proofs.hint(submission.document, digest)
    reported = await graph.service.verify_reported(
        submission.document,
        lang=chosen,
        challenge=submission.challenge,
        domain=submission.domain,
    )
    answer = reported.answer
    if kind is not None:
        answer = answer.model_copy(update={"baked_in": kind})
    # The answer is already a validated VerifyResponse: serialise it once (FastAPI would
    # validate it again and go through a dict and json.dumps; the OpenAPI schema is unchanged).
    body = answer.model_dump_json().encode()
    if key is not None and answer.outcome != "inconclusive":
        # An inconclusive answer may come from a passing failure (a status list or the
        # registry out of reach, a timeout): the next request tries again.
        graph.answers.put(key, KeptVerification(body, reported.reports), generation=generation)
    return Response(body, media_type="application/json")


async def _uploaded(request: Request) -> tuple[bytes, str | None]:
    """The ``file`` (or ``credential``) part of a multipart upload, and its declared type."""
    try:
        form = await request.form(max_files=1, max_fields=8)
    except Exception as exc:  # any unreadable multipart body is the client's
        raise MalformedBody(f"The multipart body cannot be read ({type(exc).__name__}).") from exc
    try:
        part = form.get("file") or form.get("credential")
        if isinstance(part, UploadFile):
            return await part.read(MAX_IMAGE_BYTES + 1), part.content_type
        if isinstance(part, str) and part.strip():
            return part.encode("utf-8"), None
    finally:
        await form.close()
    raise MalformedBody("The upload has no 'file' field.")


def _text_type(raw: bytes) -> str:
    """A credential file's type by its first byte (uploads are labelled loosely)."""
    return "application/json" if raw[:1] in (b"{", b"[", b'"') else "application/jwt"


def _item_error(exc: ServiceError) -> BatchItemError:
    return BatchItemError(type=exc.type, title=exc.title, status=exc.status, detail=exc.detail)


@router.post(
    "/v1/verify/batch",
    response_model=BatchResponse,
    responses=API_ERRORS,
    openapi_extra=_BATCH_BODY,
    summary="Verify up to 100 credentials",
)
async def verify_batch(
    request: Request,
    graph: GraphDep,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> BatchResponse:
    """Verify up to 100 credentials (objects or VC-JWT strings) in one call.

    Answers come in request order. An item that is not a credential at all gets an ``error``
    (problem details) instead of a ``result``; the other items are still verified. A batch
    costs one rate-limit token per 10 credentials.
    """
    key = client_key(request)
    graph.limiter.check(key)
    raw = await request.body()
    items = parse_batch(
        raw,
        request.headers.get("content-type"),
        max_depth=graph.limits.max_depth,
        limit=graph.limits.batch_max,
    )
    for _ in range(1, (len(items) + 9) // 10):
        graph.limiter.check(key)
    chosen = negotiate(lang, accept_language)
    gate = asyncio.Semaphore(graph.batch_concurrency)
    budget = graph.service.budget()  # one bound on the events of the whole batch

    async def one(index: int, value: Any) -> BatchItem:
        try:
            submission = submission_from_value(value, pointer=f"/credentials/{index}")
        except ServiceError as exc:
            return BatchItem(index=index, error=_item_error(exc))
        async with gate:
            result = await graph.service.verify(
                submission.document,
                lang=chosen,
                challenge=submission.challenge,
                domain=submission.domain,
                budget=budget,
            )
        return BatchItem(index=index, result=result)

    results = await asyncio.gather(*(one(i, v) for i, v in enumerate(items)))
    return BatchResponse(
        count=len(results),
        verified=sum(1 for r in results if r.result is not None and r.result.verified),
        results=list(results),
    )

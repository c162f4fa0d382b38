"""The public verification page: ``GET /`` shows the form, ``POST /`` shows the answer.

Server-rendered HTML that works without JavaScript (a plain form, ``multipart/form-data`` so a
file can be uploaded: a credential file, or a baked PNG/SVG badge whose credential is read
out), in French or English (``?lang=``, the form's ``lang`` field or ``Accept-Language``). It
calls the same :class:`VerificationService` as the JSON API, so the person at the page sees
exactly what an applicant-tracking system receives.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Header, Query, Request, UploadFile
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from sceau_shared.errors import ServiceError
from sceau_verifier.api.deps import GraphDep, client_key
from sceau_verifier.api.rendering import render_page
from sceau_verifier.api.responses import PAGE_ERRORS
from sceau_verifier.baked import MAX_IMAGE_BYTES, ImageKind, image_kind, unbake
from sceau_verifier.i18n import negotiate, text
from sceau_verifier.inputs import parse_submission
from sceau_verifier.schemas import Lang, VerifyResponse

__all__ = ["router"]

router = APIRouter(tags=["page"])

_MAX_PASTE = 1_048_576


def _render(
    templates: Environment,
    lang: Lang,
    *,
    result: VerifyResponse | None = None,
    error: str | None = None,
    pasted: str = "",
    status_code: int = 200,
) -> HTMLResponse:
    other = "en" if lang == "fr" else "fr"
    return render_page(
        templates,
        "page.html",
        lang,
        switch_href=f"/?lang={other}",
        status_code=status_code,
        result=result,
        error=error,
        pasted=pasted,
    )


@router.get("/", response_class=HTMLResponse, summary="Verification page", responses=PAGE_ERRORS)
async def page(
    graph: GraphDep,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    accept_language: Annotated[str | None, Header(max_length=512)] = None,
) -> HTMLResponse:
    """Show the form where a person pastes or uploads a credential."""
    return _render(graph.templates, negotiate(lang, accept_language))


@router.post(
    "/", response_class=HTMLResponse, summary="Verify from the page", responses=PAGE_ERRORS
)
async def submit(
    request: Request,
    graph: GraphDep,
    credential: Annotated[str, Form(max_length=_MAX_PASTE)] = "",
    file: UploadFile | None = None,
    form_lang: Annotated[str | None, Form(alias="lang", max_length=16)] = None,
    lang: Annotated[str | None, Query(max_length=16)] = None,
    accept_language: Annotated[str | None, Header(max_length=512)] = None,
) -> HTMLResponse:
    """Verify what was pasted or uploaded and show the answer above the form."""
    chosen = negotiate(form_lang or lang, accept_language)
    graph.limiter.check(client_key(request))
    raw = credential.strip().encode("utf-8")
    kind: ImageKind | None = None
    if file is not None and file.filename:
        uploaded = await file.read(max(_MAX_PASTE, MAX_IMAGE_BYTES) + 1)
        kind = image_kind(uploaded, file.content_type)
        if kind is not None or uploaded.strip():
            raw = uploaded if kind is not None else uploaded.strip()
    if not raw:
        return _render(graph.templates, chosen, error=text("empty_input", chosen), status_code=400)
    pasted = credential if len(credential) < 200_000 and kind is None else ""
    content_type = "application/json" if raw[:1] in (b"{", b"[", b'"') else "application/jwt"
    try:
        if kind is not None:
            submission = unbake(raw, kind, lang=chosen, max_depth=graph.limits.max_depth).submission
        else:
            submission = parse_submission(raw, content_type, max_depth=graph.limits.max_depth)
    except ServiceError as exc:
        return _render(
            graph.templates, chosen, error=exc.detail, pasted=pasted, status_code=exc.status
        )
    result = await graph.service.verify(
        submission.document,
        lang=chosen,
        challenge=submission.challenge,
        domain=submission.domain,
    )
    if kind is not None:
        result = result.model_copy(update={"baked_in": kind})
    return _render(graph.templates, chosen, result=result, pasted=pasted)

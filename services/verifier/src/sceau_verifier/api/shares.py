"""Share links opened by employers: ``GET /s/{token}`` (page, JSON, file) and ``/robots.txt``.

``GET /s/{token}?download=1`` answers the shown document as a file. The token is resolved
through the issuer (:class:`~sceau_verifier.shares.ShareClient`), then
the shown document is verified **now** with the same :class:`VerificationService` as
``POST /v1/verify``: the page shows the same explained checks and summary in the viewer's
language, and ``Accept: application/json`` gets the very same JSON. The rendered answer is kept
as long as the share answer (:mod:`sceau_verifier.share_pages`: 2 s, dropped when a status
list or an accreditation changes). Each 200 announces a ``ShareOpenedV1`` and the
verification's ``VerificationCompletedV1`` (best effort, through the event queue: the answer
never waits for Kafka).

Every answer here is a bearer capability's: not indexable (``X-Robots-Tag`` and the page's
``<meta name="robots">``), never cached by intermediaries, never sending the URL onwards
(``Referrer-Policy: no-referrer``), rate-limited per client. The token never reaches spans,
logs or problem answers: :mod:`sceau_verifier.api.redaction` takes it out of the path first.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Header, Path, Query, Request, Response
from fastapi.responses import PlainTextResponse

from sceau_credentials.results import CheckName
from sceau_shared.events import ShareOpenedV1
from sceau_verifier.api.deps import AcceptLanguage, GraphDep, LangQuery, client_key
from sceau_verifier.api.redaction import share_token
from sceau_verifier.api.rendering import page_headers, page_html, render_page
from sceau_verifier.api.responses import SHARE_ERRORS
from sceau_verifier.errors import ShareGone, ShareNotFound, SharesUnavailable
from sceau_verifier.graph import VerifierGraph
from sceau_verifier.i18n import negotiate, text
from sceau_verifier.schemas import Lang, VerifyResponse
from sceau_verifier.settings import SERVICE_NAME
from sceau_verifier.share_pages import Outcome, PageKey, RenderedShare
from sceau_verifier.shares import Share

__all__ = ["SHARE_HEADERS", "announce", "router", "wants_json"]

router = APIRouter(tags=["shares"])

#: Headers of every share answer (pages, JSON, documents, refusals).
SHARE_HEADERS = {
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Vary": "Accept, Accept-Language",
}

_TokenPath = Annotated[str, Path(max_length=256, description="The share token.")]
_AcceptHeader = Annotated[str | None, Header(max_length=1024)]
_HIDDEN = frozenset({"result", "evidence"})


def _date(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).date().isoformat() if moment is not None else None


def _download(share: Share) -> Response:
    """The shown document as a file (downloading is not an opening: no event)."""
    if isinstance(share.document, str):
        body, media_type, name = share.document, "application/jwt", "credential.jwt"
    else:
        body = json.dumps(share.document, ensure_ascii=False, indent=2)
        media_type, name = "application/ld+json", "credential.json"
    return Response(
        body,
        media_type=media_type,
        headers={**SHARE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def wants_json(accept: str | None) -> bool:
    """JSON for API clients (``Accept: application/json``); browsers ask for HTML first."""
    if not accept:
        return False
    return "application/json" in accept and "text/html" not in accept


def _refusal_page(
    graph: VerifierGraph,
    lang: Lang,
    error: ShareNotFound | ShareGone | SharesUnavailable,
) -> Response:
    if isinstance(error, ShareGone):
        heading, body = "gone_title", f"gone_{error.reason}"
    elif isinstance(error, ShareNotFound):
        heading, body = "not_found_title", "not_found_body"
    else:
        heading, body = "unavailable_title", "unavailable_body"
    return render_page(
        graph.templates,
        "share_refused.html",
        lang,
        switch_href=f"?lang={'en' if lang == 'fr' else 'fr'}",
        status_code=error.status,
        headers=SHARE_HEADERS,
        noindex=True,
        heading=heading,
        body=body,
    )


async def _resolve(graph: VerifierGraph, token: str) -> Share:
    return await graph.shares.resolve(token)


def _credential_state(answer: VerifyResponse) -> Literal["revoked", "expired"] | None:
    """Plain wording for the two failures an employer must not miss."""
    failed = {check.name for check in answer.checks if check.status == "failed"}
    if CheckName.STATUS.value in failed:
        return "revoked"
    if CheckName.VALIDITY.value in failed:
        return "expired"
    return None


def _outcome(answer: VerifyResponse) -> Outcome:
    if answer.outcome == "verified":
        return "verified"
    return "not-verified" if answer.outcome == "not-verified" else "inconclusive"


def announce(graph: VerifierGraph, share: Share, rendered: RenderedShare, *, fresh: bool) -> None:
    """Publish ``ShareOpenedV1`` and the verification's events (queued: never waits on Kafka).

    A kept answer served again is still an opening and a verification for the institution:
    its events are published again as new ones.
    """
    if fresh:
        graph.service.report(rendered.reports)
    else:
        graph.service.report_again(rendered.reports)
    if graph.reports is None:
        return
    graph.reports.offer(
        ShareOpenedV1(
            producer=SERVICE_NAME,
            share_id=share.share_id,
            institution_id=share.institution_id,
            opened_at=datetime.now(UTC),
            answer=rendered.outcome,
        )
    )


async def _rendered(
    graph: VerifierGraph, share: Share, lang: Lang, kind: Literal["html", "json"]
) -> tuple[RenderedShare, bool]:
    """The answer for ``share`` in ``lang``: kept (``False``) or verified and rendered now."""
    key: PageKey = (share.digest, lang, kind)
    kept = graph.share_pages.get(key)
    if kept is not None:
        return kept, False
    generation = graph.share_pages.generation
    graph.proofs.hint(share.document, share.digest)
    verified = await graph.service.check(share.document, lang=lang)
    answer = verified.answer
    if kind == "json":
        body, media_type = answer.model_dump_json().encode(), "application/json"
        headers: dict[str, str] = dict(SHARE_HEADERS)
    else:
        body = _page(graph, share, lang, answer).encode()
        media_type, headers = "text/html; charset=utf-8", page_headers(lang, SHARE_HEADERS)
    rendered = RenderedShare(body, media_type, headers, _outcome(answer), verified.reports)
    if rendered.outcome != "inconclusive":
        # An inconclusive answer may come from a passing failure (a status list or the
        # registry out of reach, a timeout): the next opening tries again.
        graph.share_pages.put(key, rendered, generation=generation)
    return rendered, True


def _page(graph: VerifierGraph, share: Share, lang: Lang, answer: VerifyResponse) -> str:
    is_jwt = isinstance(share.document, str)
    hidden = [text(f"hidden_{field}", lang) for field in share.hidden if field in _HIDDEN]
    return page_html(
        graph.templates,
        "share.html",
        lang,
        switch_href=f"?lang={'en' if lang == 'fr' else 'fr'}",
        noindex=True,
        result=answer,
        credential_state=_credential_state(answer),
        hidden=", ".join(hidden),
        expires_on=_date(share.expires_at),
        # Relative to /s/{token}: the page never writes its own token into its markup.
        download_href="?download=1",
        download_name="credential.jwt" if is_jwt else "credential.json",
    )


@router.get(
    "/s/{token}",
    summary="Open a share link: the credential verified now (page or JSON)",
    responses=SHARE_ERRORS,
    response_model=VerifyResponse,
)
async def open_share(
    request: Request,
    graph: GraphDep,
    token: _TokenPath,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
    accept: _AcceptHeader = None,
    download: Annotated[bool, Query(description="The shown document as a file")] = False,
) -> Response:
    """Verify the shared credential at this moment and explain the answer.

    A browser gets the page (the same checks and summary as the verification page, in the
    viewer's language, with a download of the shown document); ``Accept: application/json``
    gets the same JSON as ``POST /v1/verify``. A revoked or expired *credential* is a 200
    answer saying so. A share its learner revoked, or past its expiry, answers 410; an unknown
    token 404 (pages for browsers, problem details for JSON clients). ``?download=1`` answers
    the shown document itself (JSON-LD or VC-JWT) as a file, without verifying it again.
    """
    graph.limiter.check(client_key(request))
    chosen = negotiate(lang, accept_language)
    json_client = wants_json(accept)
    try:
        share = await _resolve(graph, share_token(request, token))
    except (ShareNotFound, ShareGone, SharesUnavailable) as error:
        if json_client:
            raise
        return _refusal_page(graph, chosen, error)
    if download:
        return _download(share)
    rendered, fresh = await _rendered(graph, share, chosen, "json" if json_client else "html")
    announce(graph, share, rendered, fresh=fresh)
    return Response(rendered.body, media_type=rendered.media_type, headers=rendered.headers)


@router.get("/robots.txt", response_class=PlainTextResponse, include_in_schema=False)
async def robots() -> PlainTextResponse:
    """Crawlers may read the verification page but never share links."""
    return PlainTextResponse("User-agent: *\nDisallow: /s/\n")

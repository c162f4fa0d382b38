"""OpenID4VP routes: the employer's API and page, and the two endpoints a wallet calls.

* ``POST /v1/oid4vp/requests`` / ``GET /v1/oid4vp/requests/{id}`` (``Authorization: Bearer``
  read token) — the API an applicant-tracking system uses;
* ``GET /oid4vp/request/{id}`` (the signed request object) and ``POST /oid4vp/response/{id}``
  (``direct_post``) — the wallet's side;
* ``GET|POST /oid4vp``, ``GET /oid4vp/sessions/{id}`` (+ ``/state``, polled by
  ``/oid4vp/poll.js``) — the employer's page; its read token lives in an HttpOnly cookie
  scoped to that session's path, never in a URL.

Without a configured store and key (:class:`~sceau_verifier.settings.Oid4vpSettings`) every
route answers 503 (problem, or a page); nothing else of the verifier depends on them.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Final

from fastapi import APIRouter, Form, Header, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from pydantic import ValidationError

from sceau_shared.errors import ServiceError
from sceau_verifier.api.deps import AcceptLanguage, GraphDep, LangQuery, client_key
from sceau_verifier.api.rendering import render_page
from sceau_verifier.errors import Oid4vpNotConfigured, Oid4vpRefused, Oid4vpUnauthorized
from sceau_verifier.graph import VerifierGraph
from sceau_verifier.i18n import negotiate
from sceau_verifier.oid4vp.qr import qr_svg
from sceau_verifier.oid4vp.rules import deep_link
from sceau_verifier.oid4vp.schemas import Oid4vpCreated, Oid4vpRequestIn, Oid4vpState, Oid4vpStatus
from sceau_verifier.oid4vp.service import Oid4vpService
from sceau_verifier.oid4vp.texts import refusal, table
from sceau_verifier.schemas import Lang

__all__ = ["router"]

router = APIRouter(tags=["oid4vp"])

_ID: Final = re.compile(r"^[A-Za-z0-9_-]{16,64}$")
_COOKIE: Final = "sceau_oid4vp"
_NO_STORE: Final = {"Cache-Control": "no-store"}
_PROBLEM: Final[dict[str, Any]] = {"content": {"application/problem+json": {}}}
_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    400: {"description": "Refused answer (reason: wrong_nonce, wrong_audience, …)."} | _PROBLEM,
    404: {"description": "No such request (or not for this token)."} | _PROBLEM,
    409: {"description": "Already answered (replay)."} | _PROBLEM,
    410: {"description": "The request expired."} | _PROBLEM,
    422: {"description": "Invalid parameters."} | _PROBLEM,
    429: {"description": "Too many requests; see Retry-After."} | _PROBLEM,
    503: {"description": "OpenID4VP not configured, or its store unreachable."} | _PROBLEM,
}
#: The page with the pending request polls its state with this script (no inline script).
_PAGE_CSP: Final = (
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'self'; connect-src 'self'; "
    "img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
#: The page's answers: HTML pages (and problems for parameter errors).
_PAGE_ERRORS: Final[dict[int | str, dict[str, Any]]] = {
    404: {"description": "No such request for this browser (page)."}
    | {"content": {"text/html": {}}},
    422: {"description": "Nothing readable was asked (page), or invalid parameters (problem)."}
    | {"content": {"text/html": {}, "application/problem+json": {}}},
    429: _ERRORS[429],
    503: {"description": "OpenID4VP not configured or its store unreachable (page)."}
    | {"content": {"text/html": {}}},
}
_POLL_JS: Final = """\
// Polls the state of this presentation request; reloads the page once the wallet answered.
(function () {
  var box = document.getElementById('oid4vp-wait');
  if (!box) { return; }
  var url = box.getAttribute('data-state-url');
  function poll() {
    fetch(url, {credentials: 'same-origin', headers: {Accept: 'application/json'}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (s) {
        if (s && s.status && s.status !== 'pending') { window.location.reload(); }
        else { window.setTimeout(poll, 2000); }
      })
      .catch(function () { window.setTimeout(poll, 5000); });
  }
  window.setTimeout(poll, 2000);
}());
"""


def _service(graph: VerifierGraph) -> Oid4vpService:
    if graph.oid4vp is None:
        raise Oid4vpNotConfigured()
    return graph.oid4vp


def _checked_id(request_id: str) -> str:
    if not _ID.match(request_id):
        en, fr = refusal("not_found", "en"), refusal("not_found", "fr")
        raise Oid4vpRefused("not_found", en, fr)
    return request_id


def _bearer(authorization: str | None) -> str | None:
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    return token.strip() or None if scheme.lower() == "bearer" else None


# --- the employer's API ---------------------------------------------------------------------


@router.post(
    "/v1/oid4vp/requests",
    status_code=201,
    summary="Ask a wallet for a credential (OpenID4VP)",
    responses=_ERRORS,
)
async def create_request(
    body: Oid4vpRequestIn, request: Request, response: Response, graph: GraphDep
) -> Oid4vpCreated:
    """Create a presentation request for a credential of an achievement and/or institution.

    Show ``deep_link`` (also as a QR code) to the candidate; read the answer at ``status_url``
    with ``Authorization: Bearer <read_token>`` (the token is shown only now).
    """
    service = _service(graph)
    graph.limiter.check(client_key(request))
    response.headers.update(_NO_STORE)
    return await service.create(body)


@router.get(
    "/v1/oid4vp/requests/{request_id}",
    summary="Read a presentation request's answer",
    responses=_ERRORS,
)
async def read_request(
    request_id: str,
    request: Request,
    response: Response,
    graph: GraphDep,
    authorization: Annotated[str | None, Header(max_length=512)] = None,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> Oid4vpStatus:
    """``pending`` until the wallet answers; then the explained answer, verified now."""
    service = _service(graph)
    graph.limiter.check(client_key(request))
    if not _ID.match(request_id):
        raise Oid4vpUnauthorized("No presentation request has this id for this token.")
    response.headers.update(_NO_STORE)
    return await service.read(
        request_id, _bearer(authorization), lang=negotiate(lang, accept_language)
    )


# --- the wallet's side ------------------------------------------------------------------------


@router.get(
    "/oid4vp/request/{request_id}",
    summary="The signed request object (request_uri)",
    response_class=Response,
    responses={200: {"content": {"application/oauth-authz-req+jwt": {}}}, **_ERRORS},
)
async def request_object(request_id: str, request: Request, graph: GraphDep) -> Response:
    """The wallet fetches the request: a JWT signed by the verifier's did:key."""
    service = _service(graph)
    graph.limiter.check(client_key(request))
    jwt = await service.request_jwt(_checked_id(request_id))
    return Response(jwt, media_type="application/oauth-authz-req+jwt", headers=_NO_STORE)


@router.post(
    "/oid4vp/response/{request_id}",
    summary="The wallet's answer (direct_post)",
    responses=_ERRORS,
)
async def wallet_response(
    request_id: str,
    request: Request,
    graph: GraphDep,
    vp_token: Annotated[str | None, Form(max_length=1_048_576)] = None,
    state: Annotated[str | None, Form(max_length=512)] = None,
    error: Annotated[str | None, Form(max_length=512)] = None,
) -> JSONResponse:
    """Check and record the presentation (or the wallet's refusal); ``{}`` when accepted.

    A refused answer (wrong nonce or audience, holder not bound, not what was asked, replay,
    expired request) is a problem with ``reason`` and FR/EN texts; nothing is recorded.
    """
    service = _service(graph)
    graph.limiter.check(client_key(request))
    await service.receive(_checked_id(request_id), vp_token=vp_token, state=state, error=error)
    return JSONResponse({}, headers=_NO_STORE)


# --- the employer's page ----------------------------------------------------------------------


def _page(
    graph: VerifierGraph,
    lang: Lang,
    *,
    switch_href: str,
    status_code: int = 200,
    csp: str | None = None,
    **context: object,
) -> HTMLResponse:
    headers = {**_NO_STORE, **({"Content-Security-Policy": csp} if csp else {})}
    return render_page(
        graph.templates,
        "oid4vp.html",
        lang,
        switch_href=switch_href,
        status_code=status_code,
        headers=headers,
        noindex=True,
        O=table(lang),
        **context,
    )


def _unavailable(graph: VerifierGraph, lang: Lang, exc: ServiceError) -> HTMLResponse:
    texts = table(lang)
    return _page(
        graph,
        lang,
        switch_href=f"/oid4vp?lang={'en' if lang == 'fr' else 'fr'}",
        status_code=exc.status,
        view="none",
        heading="unavailable_title",
        notice=texts["unavailable"],
    )


@router.get(
    "/oid4vp",
    response_class=HTMLResponse,
    summary="Employer's request page",
    responses=_PAGE_ERRORS,
)
async def request_page(
    graph: GraphDep, lang: LangQuery = None, accept_language: AcceptLanguage = None
) -> HTMLResponse:
    """The form: which achievement and/or institution to ask a wallet for."""
    chosen = negotiate(lang, accept_language)
    if graph.oid4vp is None:
        return _unavailable(graph, chosen, Oid4vpNotConfigured())
    other = "en" if chosen == "fr" else "fr"
    return _page(graph, chosen, switch_href=f"/oid4vp?lang={other}", view="form")


@router.post(
    "/oid4vp",
    response_class=HTMLResponse,
    summary="Create a request from the page",
    responses={303: {"description": "To the request's page (cookie set)."}, **_PAGE_ERRORS},
)
async def request_page_submit(
    request: Request,
    graph: GraphDep,
    achievement_id: Annotated[str, Form(max_length=512)] = "",
    issuer: Annotated[str, Form(max_length=512)] = "",
    form_lang: Annotated[str | None, Form(alias="lang", max_length=16)] = None,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> Response:
    """Create the request and go to its page (the read token set as an HttpOnly cookie)."""
    chosen = negotiate(form_lang or lang, accept_language)
    other = "en" if chosen == "fr" else "fr"
    if graph.oid4vp is None:
        return _unavailable(graph, chosen, Oid4vpNotConfigured())
    graph.limiter.check(client_key(request))
    try:
        asked = Oid4vpRequestIn(achievement_id=achievement_id, issuer=issuer)
    except ValidationError:
        return _page(
            graph,
            chosen,
            switch_href=f"/oid4vp?lang={other}",
            status_code=422,
            view="form",
            heading="create",
            notice=table(chosen)["invalid_query"],
            achievement_id=achievement_id,
            issuer=issuer,
        )
    try:
        created = await graph.oid4vp.create(asked)
    except ServiceError as exc:
        return _unavailable(graph, chosen, exc)
    path = f"/oid4vp/sessions/{created.request_id}"
    redirect = RedirectResponse(f"{path}?lang={chosen}", status_code=303, headers=_NO_STORE)
    redirect.set_cookie(
        _COOKIE,
        created.read_token,
        path=path,
        httponly=True,
        samesite="lax",
        # The public URL says whether browsers reach us over TLS (a proxy may terminate it).
        secure=graph.oid4vp.request_uri("x").startswith("https://"),
    )
    return redirect


@router.get(
    "/oid4vp/sessions/{request_id}",
    response_class=HTMLResponse,
    summary="A request's page",
    responses=_PAGE_ERRORS,
)
async def session_page(
    request_id: str,
    request: Request,
    graph: GraphDep,
    lang: LangQuery = None,
    accept_language: AcceptLanguage = None,
) -> HTMLResponse:
    """The QR code and deep link while pending; then the explained answer (verified now)."""
    chosen = negotiate(lang, accept_language)
    other = "en" if chosen == "fr" else "fr"
    switch = f"/oid4vp/sessions/{request_id}?lang={other}"
    if graph.oid4vp is None:
        return _unavailable(graph, chosen, Oid4vpNotConfigured())
    graph.limiter.check(client_key(request))
    texts = table(chosen)
    try:
        if not _ID.match(request_id):
            raise Oid4vpUnauthorized("not found")
        status = await graph.oid4vp.read(request_id, request.cookies.get(_COOKIE), lang=chosen)
    except Oid4vpUnauthorized:
        return _page(
            graph,
            chosen,
            switch_href=switch,
            status_code=404,
            view="none",
            heading="not_found_title",
            notice=texts["not_found"],
        )
    except ServiceError as exc:
        return _unavailable(graph, chosen, exc)
    service = graph.oid4vp
    link = deep_link(service.client_id, service.request_uri(request_id))
    return _page(
        graph,
        chosen,
        switch_href=switch,
        csp=_PAGE_CSP if status.status == "pending" else None,
        view="session",
        status=status,
        link=link,
        qr=qr_svg(link, title=texts["qr"]) if status.status == "pending" else "",
        expires=texts["expires"].format(time=status.expires_at.strftime("%H:%M:%S")),
        declined=texts["declined"].format(code=status.wallet_error or ""),
    )


@router.get(
    "/oid4vp/sessions/{request_id}/state",
    summary="A request's status (polled by its page)",
    responses=_ERRORS,
)
async def session_state(request_id: str, request: Request, graph: GraphDep) -> JSONResponse:
    """``{"status": "pending"|"answered"|"declined"|"expired"}`` for the page's own cookie."""
    service = _service(graph)
    graph.limiter.check(client_key(request))
    if not _ID.match(request_id):
        raise Oid4vpUnauthorized("No presentation request has this id for this token.")
    status = await service.state(request_id, request.cookies.get(_COOKIE))
    return JSONResponse(Oid4vpState(status=status).model_dump(), headers=_NO_STORE)


@router.get("/oid4vp/poll.js", summary="The request page's polling script", include_in_schema=False)
async def poll_script() -> Response:
    """The script of the pending request's page (served from here: CSP ``script-src 'self'``)."""
    return Response(
        _POLL_JS,
        media_type="text/javascript",
        headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
    )

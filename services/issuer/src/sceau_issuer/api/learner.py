"""The learner's page: ``/learn/{token}`` (HTML forms, FR/EN, no JavaScript).

Every route here carries a bearer token in its path: the router's dependency replaces the path on
the request's span with the route template, and ``PrivateResponses`` adds no-store, no-referrer
and noindex headers.
"""

from __future__ import annotations

import dataclasses
from typing import Annotated, Literal
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from sceau_issuer.api.deps import GraphDep
from sceau_issuer.errors import LearnerFormInvalid, LearnerLinkInvalid
from sceau_issuer.learners.badge import baked_png
from sceau_issuer.learners.page import render_new_link, render_page
from sceau_issuer.learners.pdf import render_pdf
from sceau_issuer.learners.privacy import redact_span
from sceau_issuer.learners.qr import qr_png, qr_svg
from sceau_issuer.learners.service import LearnerContext
from sceau_issuer.learners.texts import TEXTS, language_of
from sceau_issuer.tenants.models import Tenant
from sceau_issuer.wallets.page_block import offer_block
from sceau_shared.errors import RateLimited

router = APIRouter(prefix="/learn", tags=["learner"], dependencies=[Depends(redact_span)])

Token = Annotated[str, Path(min_length=10, max_length=512)]
Lang = Annotated[str | None, Query(pattern="^(fr|en)$")]
Paper = Annotated[
    Literal["a4", "letter"], Query(description="Paper size: A4, or North American letter")
]
MAX_FORM_BYTES = 4096


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


async def _context(token: str, request: Request, graph: GraphDep) -> LearnerContext:
    graph.claim_limiter.check(_client(request))
    return await graph.learners.open(token)


async def _form(request: Request) -> dict[str, str]:
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:
        raise LearnerFormInvalid("form too large")
    parsed = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return {name: values[-1] for name, values in parsed.items()}


def _back(token: str, lang: str | None, *, note: str | None = None) -> RedirectResponse:
    query = f"?lang={lang}" if lang else ""
    if note:
        query += ("&" if query else "?") + f"note={note}"
    return RedirectResponse(f"/learn/{token}{query}", status_code=303)


def _institution_name(tenant: Tenant, lang: str) -> str:
    names = tenant.name.model_dump()
    return str(names.get(lang) or names.get("fr") or names.get("en") or tenant.institution_id)


async def _page(
    token: str,
    ctx: LearnerContext,
    graph: GraphDep,
    lang: str,
    *,
    status_code: int = 200,
    message: str | None = None,
    error: str | None = None,
) -> HTMLResponse:
    tenant = await graph.tenants.get(ctx.institution_id)
    shares = await graph.learners.shares(ctx) if ctx.accepted else []
    downloads = [
        {"href": f"/learn/{token}/credential.pdf", "text": TEXTS[lang]["download_pdf"]},
        {
            "href": f"/learn/{token}/credential.pdf?paper=letter",
            "text": TEXTS[lang]["download_pdf_letter"],
        },
    ]
    if await graph.learners.badge_image(ctx) is not None:
        downloads.append({"href": f"/learn/{token}/badge.png", "text": TEXTS[lang]["download_png"]})
    declined = ctx.consent.get("state") == "declined"
    offer = (
        None
        if declined
        else await graph.wallets.current_offer(ctx.institution_id, ctx.credential_id)
    )
    html = render_page(
        ctx,
        lang=lang,
        base=f"/learn/{token}",
        institution=_institution_name(tenant, lang),
        claim_url=graph.issuing.claim_url(ctx.institution_id, ctx.credential_id),
        shares=shares,
        max_days=graph.settings.share_max_days,
        downloads=downloads,
        message=message,
        error=error,
        wallet=offer_block(offer, lang=lang, declined=declined),
    )
    return HTMLResponse(html, status_code=status_code)


@router.get("", response_class=HTMLResponse, summary="Ask for a new learner page link (HTML)")
async def new_link_form(lang: Lang = None) -> HTMLResponse:
    """A form asking for the address credentials were issued to."""
    return HTMLResponse(render_new_link(lang=language_of(lang, "fr"), done=False))


@router.post("/new-link", response_class=HTMLResponse, summary="E-mail fresh learner page links")
async def new_link(request: Request, graph: GraphDep, lang: Lang = None) -> HTMLResponse:
    """Send a fresh link for each credential issued to the address.

    The answer is the same whether or not the address is known (nothing to probe); beyond the
    per-address allowance the request is silently dropped, with the same answer.
    """
    graph.claim_limiter.check(_client(request))
    email = (await _form(request)).get("email", "").strip()
    chosen = language_of(lang, "fr")
    if "@" in email and len(email) <= 254:
        key = "new-link:" + graph.vault.contact_key(email.lower())
        try:
            graph.mail_limiter.check(key)
        except RateLimited:
            pass
        else:
            await graph.learners.send_new_links(email)
    return HTMLResponse(render_new_link(lang=chosen, done=True))


@router.get("/{token}", response_class=HTMLResponse, summary="The learner's page (HTML)")
async def page(
    token: Token, request: Request, graph: GraphDep, lang: Lang = None, note: str | None = None
) -> HTMLResponse:
    """The credential, the learner's consent, downloads and share links."""
    ctx = await _context(token, request, graph)
    chosen = language_of(lang, ctx.language)
    message = None
    if note == "sent":
        message = "Le courriel est en route." if chosen == "fr" else "The e-mail is on its way."
    return await _page(token, ctx, graph, chosen, message=message)


@router.post("/{token}/accept", status_code=303, summary="Accept the credential")
async def accept(token: Token, request: Request, graph: GraphDep, lang: Lang = None) -> Response:
    """Record the learner's acceptance (sharing becomes possible)."""
    ctx = await _context(token, request, graph)
    await graph.learners.set_consent(ctx, "accepted")
    return _back(token, lang)


@router.post("/{token}/decline", status_code=303, summary="Decline the credential")
async def decline(token: Token, request: Request, graph: GraphDep, lang: Lang = None) -> Response:
    """Record the learner's refusal (every share link stops working)."""
    ctx = await _context(token, request, graph)
    await graph.learners.set_consent(ctx, "declined")
    return _back(token, lang)


@router.post("/{token}/wallet-offer", status_code=303, summary="Offer the credential to a wallet")
async def wallet_offer(
    token: Token, request: Request, graph: GraphDep, lang: Lang = None
) -> Response:
    """A single-use OpenID4VCI offer (QR code and deep link on the page; taking it accepts)."""
    ctx = await _context(token, request, graph)
    with_tx_code = bool((await _form(request)).get("tx_code"))
    await graph.wallets.create_offer(
        ctx.credential, str(ctx.consent.get("state")), with_tx_code=with_tx_code
    )
    return _back(token, lang)


@router.post("/{token}/shares", status_code=303, summary="Create a share link")
async def create_share(
    token: Token, request: Request, graph: GraphDep, lang: Lang = None
) -> Response:
    """Create a share link from the page's form; a refused form re-renders the page (422)."""
    ctx = await _context(token, request, graph)
    form = await _form(request)
    chosen = language_of(lang, ctx.language)
    try:
        days_text = form.get("expires_in_days", "").strip() or "90"
        if not days_text.isdigit():
            raise LearnerFormInvalid("expiry must be a number of days")
        await graph.learners.create_share(
            ctx,
            label=form.get("label", ""),
            expires_in_days=int(days_text),
            hide_result=bool(form.get("hide_result")),
            hide_evidence=bool(form.get("hide_evidence")),
            notify_on_open=bool(form.get("notify_on_open")),
        )
    except LearnerFormInvalid as problem:
        return await _page(token, ctx, graph, chosen, status_code=422, error=problem.detail)
    return _back(token, lang)


@router.post("/{token}/public", status_code=303, summary="Create a permanent public link")
async def make_public(
    token: Token, request: Request, graph: GraphDep, lang: Lang = None
) -> Response:
    """A share labelled public, without expiry (the credential is private by default)."""
    ctx = await _context(token, request, graph)
    await graph.learners.create_share(ctx, label="public", expires_in_days=None, public=True)
    return _back(token, lang)


@router.post("/{token}/shares/{share_id}/revoke", status_code=303, summary="Revoke a share link")
async def revoke_share(
    token: Token,
    share_id: Annotated[str, Path(max_length=64)],
    request: Request,
    graph: GraphDep,
    lang: Lang = None,
) -> Response:
    """The share answers 410 from now on."""
    ctx = await _context(token, request, graph)
    await graph.learners.revoke_share(ctx, share_id)
    return _back(token, lang)


@router.post("/{token}/shares/{share_id}/email", status_code=303, summary="E-mail a share link")
async def email_share(
    token: Token,
    share_id: Annotated[str, Path(max_length=64)],
    request: Request,
    graph: GraphDep,
    lang: Lang = None,
) -> Response:
    """Send the share link to someone (rate-limited per credential and per address)."""
    ctx = await _context(token, request, graph)
    to = (await _form(request)).get("to", "").strip()
    graph.mail_limiter.check(f"credential:{ctx.credential_id}")
    graph.mail_limiter.check("to:" + graph.vault.contact_key(to.lower()))
    await graph.learners.email_share(ctx, share_id, to)
    return _back(token, lang, note="sent")


@router.get(
    "/{token}/credential.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}, "description": "The PDF certificate"}},
    summary="The PDF certificate with the signed credential attached",
)
async def certificate_pdf(
    token: Token, request: Request, graph: GraphDep, paper: Paper = "a4"
) -> Response:
    """Bilingual certificate, A4 or US Letter (``?paper=letter``).

    Its QR code opens a share made for it (once the credential is accepted).
    """
    ctx = await _context(token, request, graph)
    certificate = dataclasses.replace(await graph.learners.certificate(ctx), paper=paper)
    body = render_pdf(certificate)
    short = ctx.credential_id.split("-")[0]
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="certificate-{short}.pdf"'},
    )


@router.get(
    "/{token}/badge.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}, "description": "The baked badge"}},
    summary="The achievement's PNG image with the signed credential baked in",
)
async def badge_png(token: Token, request: Request, graph: GraphDep) -> Response:
    """404 when the achievement has no inline PNG image."""
    ctx = await _context(token, request, graph)
    image = await graph.learners.badge_image(ctx)
    if image is None:
        raise LearnerLinkInvalid("this credential has no PNG badge image")
    short = ctx.credential_id.split("-")[0]
    return Response(
        baked_png(image, ctx.credential["document"]),
        media_type="image/png",
        headers={"Content-Disposition": f'attachment; filename="badge-{short}.png"'},
    )


@router.get(
    "/{token}/shares/{share_id}/qr.{kind}",
    response_class=Response,
    summary="QR code of a share link (png or svg)",
)
async def share_qr(
    token: Token,
    share_id: Annotated[str, Path(max_length=64)],
    kind: Annotated[str, Path(pattern="^(png|svg)$")],
    request: Request,
    graph: GraphDep,
) -> Response:
    """The share link's QR code as a file to print or paste."""
    ctx = await _context(token, request, graph)
    share = await graph.learners.share(ctx, share_id)
    disposition = {"Content-Disposition": f'attachment; filename="qr-{share_id}.{kind}"'}
    if kind == "png":
        return Response(qr_png(share.url), media_type="image/png", headers=disposition)
    return Response(qr_svg(share.url), media_type="image/svg+xml", headers=disposition)

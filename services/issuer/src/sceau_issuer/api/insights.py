"""Issuer insights: aggregate counts as JSON, CSV or an HTML page with charts; targets (R73 to R78).

Everything here is aggregate and read under the institution's API key (scope ``read``; targets
need ``manage``). There are no filters on purpose: two differently filtered views of the same
counts could be subtracted from each other, which the suppression rule cannot protect against.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response
from fastapi.responses import HTMLResponse

from sceau_issuer.api.deps import AUTH_RESPONSES, GraphDep, Manager, Reader
from sceau_issuer.errors import InsightsLinkInvalid
from sceau_issuer.graph import IssuerGraph
from sceau_issuer.insights.export import to_csv
from sceau_issuer.insights.page import render_page
from sceau_issuer.insights.schemas import InsightsReport, PageLink, TargetsInput, TargetsView
from sceau_issuer.learners.privacy import redact_span
from sceau_issuer.tenants.models import Tenant

router = APIRouter(prefix="/v1/insights", tags=["insights"], responses=AUTH_RESPONSES)
#: The page opened by a link (no API key): its token is masked in logs and spans.
public = APIRouter(prefix="/insights", tags=["insights"], dependencies=[Depends(redact_span)])

#: How long a page link opens the page (a link forwarded later opens nothing).
PAGE_LINK_TTL_S = 900

#: The page and its CSV: nothing fetched, nothing run, nothing kept by the browser.
_PAGE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "content": {
            "text/html": {"schema": {"type": "string"}},
            "text/csv": {"schema": {"type": "string"}},
        }
    }
}
_PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; "
    "form-action 'none'; frame-ancestors 'none'; base-uri 'none'",
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Robots-Tag": "noindex",
}

Format = Annotated[
    Literal["json", "csv"], Query(description="`json` (default) or `csv` (one long table)")
]
PageLang = Annotated[Literal["fr", "en"], Query(description="Language of the page")]
PageFormat = Annotated[Literal["html", "csv"], Query(description="`csv`: the page's download")]


@router.get(
    "",
    response_model=InsightsReport,
    summary="Aggregate counts per achievement, cohort and series module",
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
async def insights(graph: GraphDep, caller: Reader, format: Format = "json") -> Response:
    """Issued, accepted, shared, verified, verifications and revoked; funnels and targets.

    Small cells are suppressed (``null``; CSV: empty value, ``suppressed=true``) so that no
    total can give them back: docs/issuer.md, "Insights".
    """
    report = await graph.insights.report(caller.tenant.institution_id)
    if format == "csv":
        return _csv(to_csv(report))
    return Response(report.model_dump_json(), media_type="application/json")


@router.get(
    "/page",
    response_class=HTMLResponse,
    responses=_PAGE_RESPONSES,
    summary="The insights as a page with charts (HTML, FR/EN, no script)",
)
async def page(
    graph: GraphDep, caller: Reader, lang: PageLang = "fr", format: PageFormat = "html"
) -> Response:
    """Bar charts (inline SVG) with their tables; the same figures as the JSON."""
    return await _page(graph, caller.tenant, lang, format)


@router.post(
    "/page-links",
    status_code=201,
    response_model=PageLink,
    summary="A 15-minute link to the insights page, for a browser without the API key",
)
async def page_link(graph: GraphDep, caller: Reader) -> PageLink:
    """Open it in any browser within 15 minutes; it shows aggregates only, like the API."""
    token = graph.vault.insights_token(
        institution_id=caller.tenant.institution_id, ttl_s=PAGE_LINK_TTL_S
    )
    expires = datetime.now(UTC) + timedelta(seconds=PAGE_LINK_TTL_S)
    base = graph.settings.http.public_base_url.rstrip("/")
    return PageLink(url=f"{base}/insights/{token}", expires_at=expires.isoformat())


@public.get(
    "/{token}",
    response_class=HTMLResponse,
    responses={**_PAGE_RESPONSES, 404: {"description": "Unknown, tampered or expired link"}},
    summary="The insights page opened by a link (HTML, FR/EN, no script)",
)
async def page_by_link(
    graph: GraphDep,
    token: Annotated[str, Path(max_length=512)],
    lang: PageLang = "fr",
    format: PageFormat = "html",
) -> Response:
    """The page of the institution the link names; every bad link is the same 404."""
    institution_id = graph.vault.read_insights_token(token)
    if institution_id is None:
        raise InsightsLinkInvalid("this link is invalid or has expired")
    return await _page(graph, await graph.tenants.get(institution_id), lang, format)


async def _page(graph: IssuerGraph, tenant: Tenant, lang: str, format: str) -> Response:
    report = await graph.insights.report(tenant.institution_id)
    if format == "csv":
        return _csv(to_csv(report))
    names = tenant.name
    name = getattr(names, lang) or names.fr or names.en or tenant.institution_id
    html = render_page(report, lang=lang, institution=name)
    return HTMLResponse(html, headers=_PAGE_HEADERS)


@router.put(
    "/targets/{achievement_id}",
    response_model=TargetsView,
    summary="Set the targets of one achievement (R78)",
    responses={404: {"description": "Not one of the institution's achievements"}},
)
async def set_targets(
    graph: GraphDep,
    caller: Manager,
    achievement_id: Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[0-9a-f]+$")],
    body: TargetsInput,
) -> TargetsView:
    """Targets are counts (e.g. 120 issued, 30 verified); the report shows actual against them."""
    await graph.achievements.get(caller.tenant, achievement_id)  # 404 for another's
    await graph.insights.set_targets(caller.tenant.institution_id, achievement_id, body.targets)
    return TargetsView(achievement_id=achievement_id, targets=body.targets)


def _csv(text: str) -> Response:
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="insights.csv"',
            "Cache-Control": "no-store",
        },
    )

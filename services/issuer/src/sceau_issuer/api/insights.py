"""Issuer insights: aggregate counts as JSON, CSV or an HTML page with charts; targets (R73 to R78).

Everything here is aggregate and read under the institution's API key (scope ``read``; targets
need ``manage``). There are no filters on purpose: two differently filtered views of the same
counts could be subtracted from each other, which the suppression rule cannot protect against.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import HTMLResponse

from sceau_issuer.api.deps import AUTH_RESPONSES, GraphDep, Manager, Reader
from sceau_issuer.insights.export import to_csv
from sceau_issuer.insights.page import render_page
from sceau_issuer.insights.schemas import InsightsReport, TargetsInput, TargetsView

router = APIRouter(prefix="/v1/insights", tags=["insights"], responses=AUTH_RESPONSES)

#: The page and its CSV: nothing fetched, nothing run, nothing kept by the browser.
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
    responses={
        200: {
            "content": {
                "text/html": {"schema": {"type": "string"}},
                "text/csv": {"schema": {"type": "string"}},
            }
        }
    },
    summary="The insights as a page with charts (HTML, FR/EN, no script)",
)
async def page(
    graph: GraphDep, caller: Reader, lang: PageLang = "fr", format: PageFormat = "html"
) -> Response:
    """Bar charts (inline SVG) with their tables; the same figures as the JSON."""
    report = await graph.insights.report(caller.tenant.institution_id)
    if format == "csv":
        return _csv(to_csv(report))
    names = caller.tenant.name
    name = getattr(names, lang) or names.fr or names.en or caller.tenant.institution_id
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

"""Achievements and series endpoints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query

from sceau_issuer.api.deps import AUTH_RESPONSES, GraphDep, Manager, PagingDep, Reader
from sceau_issuer.api.views import achievement_summary, series_view, version_view
from sceau_issuer.schemas import (
    AchievementInput,
    AchievementList,
    AchievementSummary,
    AchievementVersionView,
    SeriesInput,
    SeriesView,
)
from sceau_shared.errors import NotFound

router = APIRouter(prefix="/v1", tags=["achievements"], responses=AUTH_RESPONSES)

AchievementId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such achievement here"}}


@router.post(
    "/achievements",
    status_code=201,
    response_model=AchievementVersionView,
    summary="Create an achievement (draft v1)",
)
async def create_achievement(
    body: AchievementInput, graph: GraphDep, caller: Manager
) -> AchievementVersionView:
    """Create version 1 as a draft; publish it when complete."""
    doc = await graph.achievements.create(caller.tenant, body)
    return version_view(doc)


@router.get("/achievements", response_model=AchievementList, summary="List achievements")
async def list_achievements(graph: GraphDep, paging: PagingDep, caller: Reader) -> AchievementList:
    """The institution's achievements, oldest first."""
    result = await graph.achievements.page(
        caller.tenant, page=paging.page, page_size=paging.page_size
    )
    return AchievementList(
        items=[achievement_summary(d) for d in result["items"]],
        page=result["page"],
        page_size=result["page_size"],
        total=result["total"],
    )


@router.get(
    "/achievements/{achievement_id}",
    response_model=AchievementSummary,
    responses=NOT_FOUND,
    summary="Get an achievement",
)
async def get_achievement(
    achievement_id: AchievementId, graph: GraphDep, caller: Reader
) -> AchievementSummary:
    """The latest version and which version issuing uses."""
    return achievement_summary(await graph.achievements.get(caller.tenant, achievement_id))


@router.put(
    "/achievements/{achievement_id}",
    response_model=AchievementVersionView,
    responses=NOT_FOUND,
    summary="Edit an achievement (makes a new draft version)",
)
async def edit_achievement(
    achievement_id: AchievementId,
    body: AchievementInput,
    graph: GraphDep,
    caller: Manager,
) -> AchievementVersionView:
    """Credentials already issued keep the version they were issued under."""
    return version_view(await graph.achievements.edit(caller.tenant, achievement_id, body))


@router.get(
    "/achievements/{achievement_id}/versions",
    response_model=list[AchievementVersionView],
    responses=NOT_FOUND,
)
async def list_versions(
    achievement_id: AchievementId, graph: GraphDep, caller: Reader
) -> list[AchievementVersionView]:
    """Every version, oldest first."""
    return [
        version_view(d) for d in await graph.achievements.versions(caller.tenant, achievement_id)
    ]


@router.post(
    "/achievements/{achievement_id}/publish",
    response_model=AchievementVersionView,
    responses={
        **NOT_FOUND,
        422: {"description": "Missing fields or languages, each named by its path"},
    },
    summary="Publish the latest (or a given) version",
)
async def publish_achievement(
    achievement_id: AchievementId,
    graph: GraphDep,
    caller: Manager,
    version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
) -> AchievementVersionView:
    """Check completeness, both languages and the micro-credential rules, then publish."""
    return version_view(await graph.achievements.publish(caller.tenant, achievement_id, version))


@router.post(
    "/series",
    status_code=201,
    response_model=SeriesView,
    tags=["series"],
    summary="Define a series",
)
async def create_series(body: SeriesInput, graph: GraphDep, caller: Manager) -> SeriesView:
    """When a learner holds every required component, the overall credential is issued."""
    doc = await graph.series.create(caller.tenant, body)
    return series_view(doc)


@router.get("/series", response_model=list[SeriesView], tags=["series"], summary="List series")
async def list_series(graph: GraphDep, caller: Reader) -> list[SeriesView]:
    """The institution's series."""
    return [series_view(d) for d in await graph.series.all(caller.tenant)]


@router.get("/series/{series_id}", response_model=SeriesView, tags=["series"], responses=NOT_FOUND)
async def get_series(series_id: AchievementId, graph: GraphDep, caller: Reader) -> SeriesView:
    """One series."""
    doc = await graph.series.get(caller.tenant, series_id)
    return series_view(doc)


public = APIRouter(prefix="/v1/public", tags=["public"])


@public.get(
    "/achievements/{achievement_id}/versions/{version}",
    response_model=AchievementVersionView,
    responses=NOT_FOUND,
    summary="A published achievement version (the Achievement.id of credentials)",
)
async def public_achievement(
    achievement_id: AchievementId,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    graph: GraphDep,
) -> AchievementVersionView:
    """Published definitions are public: every credential issued under them carries them."""
    doc = await graph.achievements.public_version(achievement_id, version)
    if doc is None:
        raise NotFound("no such published achievement version")
    return version_view(doc)

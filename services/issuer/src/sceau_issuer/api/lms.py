"""The LMS completion hook (signed, per institution) and its management (secret, mappings)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response

from sceau_issuer.api.deps import AUTH_RESPONSES, GraphDep, Manager, Reader
from sceau_issuer.errors import LmsMappingNotFound
from sceau_issuer.lms.mappings import GENERIC_EXAMPLE, Lms
from sceau_issuer.lms.schemas import (
    DeliveryAnswer,
    MappingInput,
    MappingList,
    MappingView,
    SecretCreated,
)

router = APIRouter(prefix="/v1/lms", tags=["lms"], responses=AUTH_RESPONSES)
hooks = APIRouter(prefix="/v1/lms/hooks", tags=["lms"])

InstitutionId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]
CourseId = Annotated[str, Path(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9._:~-]+$")]

_PROBLEM_FR_EN = "(problem details, detail_en/detail_fr)"
_HOOK_BODY: dict[str, Any] = {
    "required": True,
    "description": "The LMS's event as it sent it (its shape is named by the URL: generic, "
    "canvas or brightspace; see docs/lms.md), signed as is.",
    "content": {
        "application/json": {
            "schema": {"type": "object"},
            "example": GENERIC_EXAMPLE,
        }
    },
}


@hooks.post(
    "/{institution_id}/{lms}",
    status_code=201,
    response_model=DeliveryAnswer,
    response_model_exclude_none=True,
    openapi_extra={"requestBody": _HOOK_BODY},
    responses={
        200: {
            "model": DeliveryAnswer,
            "description": "A replay (same webhook-id), a completion already issued or held, or "
            "an event that is not a completion (outcome ignored): nothing issued",
        },
        400: {"description": f"The signed body is not JSON {_PROBLEM_FR_EN}"},
        401: {"description": f"Missing, old (> 5 min) or wrong signature {_PROBLEM_FR_EN}"},
        404: {"description": f"The achievement has no published version {_PROBLEM_FR_EN}"},
        422: {"description": f"No usable learner e-mail, or an unmapped course {_PROBLEM_FR_EN}"},
    },
    summary="Receive an LMS course completion (Standard Webhooks signature)",
)
async def receive_completion(
    institution_id: InstitutionId,
    lms: Lms,
    request: Request,
    response: Response,
    graph: GraphDep,
    webhook_id: Annotated[str | None, Header(alias="webhook-id", max_length=200)] = None,
    webhook_timestamp: Annotated[
        str | None, Header(alias="webhook-timestamp", max_length=20)
    ] = None,
    webhook_signature: Annotated[
        str | None, Header(alias="webhook-signature", max_length=4096)
    ] = None,
) -> DeliveryAnswer:
    """Issue the credential a completion asks for, once per (LMS, course, learner).

    Authenticated by the institution's hook secret, not an API key: the body is read raw and
    its signature checked before it is parsed. See docs/lms.md.
    """
    body = await request.body()
    answer, issued = await graph.lms.receive(institution_id, lms, request.headers, body)
    if not issued:
        response.status_code = 200
    return answer


@router.post(
    "/secret",
    status_code=201,
    response_model=SecretCreated,
    response_model_exclude_none=True,
    summary="Create or rotate the LMS hook's signing secret (shown once)",
)
async def create_secret(graph: GraphDep, caller: Manager) -> SecretCreated:
    """The secret it replaces is still accepted for 24 hours, time to update the LMS side."""
    return await graph.lms.create_secret(caller.tenant.institution_id)


@router.delete("/secret", response_model=MappingList, summary="Turn the LMS hook off")
async def delete_secret(graph: GraphDep, caller: Manager) -> MappingList:
    """Every delivery is refused (401) until a new secret is created; mappings are kept."""
    await graph.lms.delete_secrets(caller.tenant.institution_id)
    has_secret, items = await graph.lms.mappings(caller.tenant.institution_id)
    return MappingList(has_secret=has_secret, items=items)


@router.get("/mappings", response_model=MappingList, summary="The course → achievement mappings")
async def list_mappings(graph: GraphDep, caller: Reader) -> MappingList:
    """Every mapping of the institution, by LMS and course, and whether the hook has a secret."""
    has_secret, items = await graph.lms.mappings(caller.tenant.institution_id)
    return MappingList(has_secret=has_secret, items=items)


@router.put(
    "/mappings/{lms}/{course_id}",
    response_model=MappingView,
    response_model_exclude_none=True,
    responses={404: {"description": f"No published version of the achievement {_PROBLEM_FR_EN}"}},
    summary="Map an LMS course (a Brightspace award) to an achievement",
)
async def put_mapping(
    lms: Lms, course_id: CourseId, body: MappingInput, graph: GraphDep, caller: Manager
) -> MappingView:
    """A Canvas course id, a Brightspace award id, or the generic shape's ``course.id``."""
    return await graph.lms.put_mapping(
        caller.tenant, lms, course_id, body.achievement_id, body.language
    )


@router.delete(
    "/mappings/{lms}/{course_id}",
    response_model=MappingView,
    response_model_exclude_none=True,
    responses={404: {"description": "No such mapping"}},
    summary="Remove a mapping (answered with it)",
)
async def delete_mapping(
    lms: Lms, course_id: CourseId, graph: GraphDep, caller: Manager
) -> MappingView:
    """Completions of the course are then refused (422) until it is mapped again."""
    removed = await graph.lms.remove_mapping(caller.tenant.institution_id, lms, course_id)
    if removed is None:
        raise LmsMappingNotFound(f"{lms.value} course {course_id!r} is not mapped")
    return removed

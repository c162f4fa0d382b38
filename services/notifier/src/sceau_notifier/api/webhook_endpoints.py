"""Operator routes: an institution's webhook endpoints (register, list, change, remove)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from sceau_notifier.api.deps import GraphDep
from sceau_notifier.schemas import (
    INSTITUTION_ID,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    EndpointUpdate,
)

InstitutionId = Annotated[str, Path(pattern=INSTITUTION_ID)]

router = APIRouter(prefix="/v1/institutions", tags=["operators"])


@router.post("/{institution_id}/webhooks", status_code=201)
async def create_endpoint(
    institution_id: InstitutionId, body: EndpointCreate, graph: GraphDep
) -> EndpointCreated:
    """Register an endpoint; the answer carries its signing secret, shown only this once."""
    doc, secret = await graph.webhooks.create_endpoint(
        institution_id,
        url=body.url,
        event_types=[t.value for t in body.event_types],
        description=body.description,
    )
    return EndpointCreated(**EndpointOut.of(doc).model_dump(), secret=secret)


@router.get("/{institution_id}/webhooks")
async def list_endpoints(institution_id: InstitutionId, graph: GraphDep) -> list[EndpointOut]:
    """An institution's endpoints."""
    return [EndpointOut.of(d) for d in await graph.webhooks.list_endpoints(institution_id)]


@router.get("/{institution_id}/webhooks/{endpoint_id}")
async def get_endpoint(
    institution_id: InstitutionId, endpoint_id: str, graph: GraphDep
) -> EndpointOut:
    """One endpoint."""
    return EndpointOut.of(await graph.webhooks.get_endpoint(institution_id, endpoint_id))


@router.patch("/{institution_id}/webhooks/{endpoint_id}")
async def update_endpoint(
    institution_id: InstitutionId, endpoint_id: str, body: EndpointUpdate, graph: GraphDep
) -> EndpointOut:
    """Change an endpoint's URL, event types, description or enabled flag."""
    changes = body.model_dump(exclude_none=True, mode="json")
    if not changes:
        return EndpointOut.of(await graph.webhooks.get_endpoint(institution_id, endpoint_id))
    doc = await graph.webhooks.update_endpoint(institution_id, endpoint_id, changes)
    return EndpointOut.of(doc)


@router.delete("/{institution_id}/webhooks/{endpoint_id}", status_code=204)
async def delete_endpoint(
    institution_id: InstitutionId, endpoint_id: str, graph: GraphDep
) -> Response:
    """Stop sending to an endpoint; its delivery log stays."""
    await graph.webhooks.delete_endpoint(institution_id, endpoint_id)
    return Response(status_code=204)

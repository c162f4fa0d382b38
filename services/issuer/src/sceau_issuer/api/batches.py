"""Cohort batch endpoints."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Response

from sceau_issuer.api.deps import (
    AUTH_RESPONSES,
    GraphDep,
    IdempotencyKey,
    IssuerCaller,
    PagingDep,
    Reader,
)
from sceau_issuer.api.views import batch_view
from sceau_issuer.schemas import BatchItemList, BatchItemView, BatchRequest, BatchView

router = APIRouter(prefix="/v1/batches", tags=["batches"], responses=AUTH_RESPONSES)

BatchId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such batch here"}}


@router.post(
    "",
    status_code=202,
    response_model=BatchView,
    responses={
        200: {
            "model": BatchView,
            "description": "Replay (same Idempotency-Key): the batch already accepted",
        },
        404: {"description": "No such published achievement here"},
        413: {"description": "Body too large"},
    },
    summary="Issue an achievement to a cohort (asynchronous job)",
)
async def create_batch(
    body: BatchRequest,
    idempotency_key: IdempotencyKey,
    response: Response,
    graph: GraphDep,
    caller: IssuerCaller,
) -> BatchView:
    """Accept up to 10,000 recipients; poll the batch for progress and its final report."""
    doc, replayed = await graph.batches.create(
        caller.tenant.institution_id, body, idempotency_key=idempotency_key
    )
    graph.worker.wake()
    if replayed:
        response.status_code = 200
    response.headers["Location"] = f"/v1/batches/{doc['_id']}"
    return batch_view(doc)


@router.get(
    "/{batch_id}",
    response_model=BatchView,
    responses=NOT_FOUND,
    summary="Batch progress and report",
)
async def get_batch(batch_id: BatchId, graph: GraphDep, caller: Reader) -> BatchView:
    """Progress while running; the final report once completed."""
    return batch_view(await graph.batches.get(caller.tenant.institution_id, batch_id))


@router.get(
    "/{batch_id}/results",
    response_model=BatchItemList,
    responses=NOT_FOUND,
    summary="Per-recipient results",
)
async def batch_results(
    batch_id: BatchId,
    graph: GraphDep,
    caller: Reader,
    paging: PagingDep,
    state: Literal["pending", "issued", "duplicate", "failed"] | None = None,
) -> BatchItemList:
    """One line per recipient: issued (with its credential), duplicate or failed (with why)."""
    docs, total = await graph.batches.results(
        caller.tenant.institution_id,
        batch_id,
        state=state,
        skip=paging.skip,
        limit=paging.page_size,
    )
    items = [
        BatchItemView(
            seq=d["seq"],
            email=d["recipient"]["email"],
            state=d["state"],
            credential_id=d.get("credential_id"),
            error=d.get("error"),
        )
        for d in docs
    ]
    return BatchItemList(items=items, page=paging.page, page_size=paging.page_size, total=total)

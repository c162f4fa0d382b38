"""Operator routes: the webhook delivery log and the replay of failed deliveries."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sceau_notifier.api.deps import GraphDep
from sceau_notifier.schemas import INSTITUTION_ID, DeliveryOut, DeliveryStatus, Limit

router = APIRouter(prefix="/v1/deliveries", tags=["operators"])


@router.get("")
async def list_deliveries(
    graph: GraphDep,
    status: DeliveryStatus | None = None,
    institution_id: Annotated[str | None, Query(pattern=INSTITUTION_ID)] = None,
    endpoint_id: str | None = None,
    limit: Limit = 100,
) -> list[DeliveryOut]:
    """Webhook delivery log, e.g. ``?status=failed`` for what needs a replay."""
    views = await graph.webhooks.deliveries(
        status=status, institution_id=institution_id, endpoint_id=endpoint_id, limit=limit
    )
    return [DeliveryOut.of(v) for v in views]


@router.get("/{delivery_id}")
async def get_delivery(delivery_id: str, graph: GraphDep) -> DeliveryOut:
    """One delivery."""
    return DeliveryOut.of(await graph.webhooks.delivery(delivery_id))


@router.post("/{delivery_id}/replay", status_code=202)
async def replay_delivery(delivery_id: str, graph: GraphDep) -> DeliveryOut:
    """Send a failed delivery again, with the same ``webhook-id``."""
    return DeliveryOut.of(await graph.webhooks.replay(delivery_id))

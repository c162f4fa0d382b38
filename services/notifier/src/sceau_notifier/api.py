"""Operator HTTP API: webhook endpoints per institution and the delivery logs.

Every route requires ``Authorization: Bearer <NOTIFIER_OPERATOR_TOKEN>``; with no token
configured the API refuses everyone rather than running open.
"""

from __future__ import annotations

import hmac
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from sceau_notifier.components import Notifier
from sceau_notifier.schemas import (
    INSTITUTION_ID,
    DeliveryOut,
    EmailOut,
    EndpointCreate,
    EndpointCreated,
    EndpointOut,
    EndpointUpdate,
)
from sceau_notifier.settings import NotifierSettings
from sceau_shared.errors import Conflict, NotFound, Unauthorized

InstitutionId = Annotated[str, Path(pattern=INSTITUTION_ID)]
DeliveryStatus = Literal["queued", "sending", "retrying", "failed", "sent", "pending"]
Limit = Annotated[int, Query(ge=1, le=500)]


def _notifier(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.notifier
    return notifier


Service = Annotated[Notifier, Depends(_notifier)]


def build_router(settings: NotifierSettings) -> APIRouter:
    """Create the operator routes (the token comes from ``settings``, not from a global)."""

    def require_operator(request: Request) -> None:
        token = settings.operator_token
        header = request.headers.get("authorization", "")
        scheme, _, presented = header.partition(" ")
        if token is None:
            raise Unauthorized("the operator API is disabled: NOTIFIER_OPERATOR_TOKEN is not set")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            presented.strip().encode(), token.get_secret_value().encode()
        ):
            raise Unauthorized("a valid operator bearer token is required")

    router = APIRouter(prefix="/v1", dependencies=[Depends(require_operator)], tags=["operators"])

    @router.post("/institutions/{institution_id}/webhooks", status_code=201)
    async def create_endpoint(
        institution_id: InstitutionId, body: EndpointCreate, notifier: Service
    ) -> EndpointCreated:
        """Register an endpoint; the answer carries its signing secret, shown only this once."""
        doc, secret = await notifier.webhooks.create_endpoint(
            institution_id,
            url=body.url,
            event_types=[t.value for t in body.event_types],
            description=body.description,
        )
        return EndpointCreated(**EndpointOut.of(doc).model_dump(), secret=secret)

    @router.get("/institutions/{institution_id}/webhooks")
    async def list_endpoints(institution_id: InstitutionId, notifier: Service) -> list[EndpointOut]:
        """An institution's endpoints."""
        return [EndpointOut.of(d) for d in await notifier.webhooks.list_endpoints(institution_id)]

    @router.get("/institutions/{institution_id}/webhooks/{endpoint_id}")
    async def get_endpoint(
        institution_id: InstitutionId, endpoint_id: str, notifier: Service
    ) -> EndpointOut:
        """One endpoint."""
        return EndpointOut.of(await notifier.webhooks.get_endpoint(institution_id, endpoint_id))

    @router.patch("/institutions/{institution_id}/webhooks/{endpoint_id}")
    async def update_endpoint(
        institution_id: InstitutionId, endpoint_id: str, body: EndpointUpdate, notifier: Service
    ) -> EndpointOut:
        """Change an endpoint's URL, event types, description or enabled flag."""
        changes = body.model_dump(exclude_none=True, mode="json")
        if not changes:
            return EndpointOut.of(await notifier.webhooks.get_endpoint(institution_id, endpoint_id))
        doc = await notifier.webhooks.update_endpoint(institution_id, endpoint_id, changes)
        return EndpointOut.of(doc)

    @router.delete("/institutions/{institution_id}/webhooks/{endpoint_id}", status_code=204)
    async def delete_endpoint(
        institution_id: InstitutionId, endpoint_id: str, notifier: Service
    ) -> Response:
        """Stop sending to an endpoint; its delivery log stays."""
        await notifier.webhooks.delete_endpoint(institution_id, endpoint_id)
        return Response(status_code=204)

    @router.get("/deliveries")
    async def list_deliveries(
        notifier: Service,
        status: DeliveryStatus | None = None,
        institution_id: Annotated[str | None, Query(pattern=INSTITUTION_ID)] = None,
        endpoint_id: str | None = None,
        limit: Limit = 100,
    ) -> list[DeliveryOut]:
        """Webhook delivery log, e.g. ``?status=failed`` for what needs a replay."""
        views = await notifier.webhooks.deliveries(
            status=status, institution_id=institution_id, endpoint_id=endpoint_id, limit=limit
        )
        return [DeliveryOut.of(v) for v in views]

    @router.get("/deliveries/{delivery_id}")
    async def get_delivery(delivery_id: str, notifier: Service) -> DeliveryOut:
        """One delivery."""
        return DeliveryOut.of(await notifier.webhooks.delivery(delivery_id))

    @router.post("/deliveries/{delivery_id}/replay", status_code=202)
    async def replay_delivery(delivery_id: str, notifier: Service) -> DeliveryOut:
        """Send a failed delivery again, with the same ``webhook-id``."""
        return DeliveryOut.of(await notifier.webhooks.replay(delivery_id))

    @router.get("/emails")
    async def list_emails(
        notifier: Service,
        recipient_hash: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{64}$")] = None,
        status: DeliveryStatus | None = None,
        limit: Limit = 100,
    ) -> list[EmailOut]:
        """Learner e-mail log; look a learner up by ``sha256(lower(trim(address)))``."""
        views = await notifier.emails.log(recipient_hash=recipient_hash, status=status, limit=limit)
        return [EmailOut.of(v) for v in views]

    @router.post("/emails/{email_id}/replay", status_code=202)
    async def replay_email(email_id: str, notifier: Service) -> dict[str, str]:
        """Send a failed e-mail again (same Message-ID)."""
        if not await notifier.emails.exists(email_id):
            raise NotFound(f"no e-mail {email_id}")
        if not await notifier.emails.replay(email_id):
            raise Conflict(f"e-mail {email_id} has not failed; only failed e-mails are replayed")
        return {"id": email_id, "status": "retrying"}

    return router

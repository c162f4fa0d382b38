"""Operator routes: the learner e-mail log (never an address) and the replay of failed e-mails."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from sceau_notifier.api.deps import GraphDep
from sceau_notifier.errors import EmailNotFound, EmailNotReplayable
from sceau_notifier.schemas import DeliveryStatus, EmailOut, Limit

router = APIRouter(prefix="/v1/emails", tags=["operators"])


@router.get("")
async def list_emails(
    graph: GraphDep,
    recipient_hash: Annotated[str | None, Query(pattern=r"^[0-9a-fA-F]{64}$")] = None,
    status: DeliveryStatus | None = None,
    limit: Limit = 100,
) -> list[EmailOut]:
    """Learner e-mail log; look a learner up by ``sha256(lower(trim(address)))``."""
    views = await graph.emails.log(recipient_hash=recipient_hash, status=status, limit=limit)
    return [EmailOut.of(v) for v in views]


@router.post("/{email_id}/replay", status_code=202)
async def replay_email(email_id: str, graph: GraphDep) -> dict[str, str]:
    """Send a failed e-mail again (same Message-ID)."""
    if not await graph.emails.exists(email_id):
        raise EmailNotFound(f"no e-mail {email_id}")
    if not await graph.emails.replay(email_id):
        raise EmailNotReplayable(
            f"e-mail {email_id} has not failed; only failed e-mails are replayed"
        )
    return {"id": email_id, "status": "retrying"}

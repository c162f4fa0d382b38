"""Endorsement endpoints: an endorsing body signs; the endorsed institution accepts or rejects."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path

from sceau_issuer.api.deps import AUTH_RESPONSES, GraphDep, Manager, Reader
from sceau_issuer.schemas import EndorsementList, EndorsementRequest, EndorsementView

router = APIRouter(prefix="/v1", tags=["endorsements"], responses=AUTH_RESPONSES)

AchievementId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
EndorsementId = Annotated[str, Path(min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")]
REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "Not a registered endorser for this achievement type (not-endorser)"},
    404: {"description": "No published version of this achievement"},
    409: {"description": "An institution cannot endorse its own achievement"},
}
DECIDED: dict[int | str, dict[str, Any]] = {
    404: {"description": "No such endorsement of this institution's achievement"},
    409: {"description": "Already decided the other way"},
}


def _view(doc: dict[str, Any]) -> EndorsementView:
    return EndorsementView.model_validate({**doc, "endorsement_id": doc["_id"]})


@router.post(
    "/endorsements",
    status_code=201,
    response_model=EndorsementView,
    responses=REFUSED,
    summary="Endorse another institution's achievement (signed with your key)",
)
async def endorse(body: EndorsementRequest, graph: GraphDep, caller: Manager) -> EndorsementView:
    """Sign an OB 3.0 EndorsementCredential; the endorsed institution then accepts it or not."""
    return _view(await graph.endorsements.endorse(caller.tenant, body))


@router.get(
    "/endorsements",
    response_model=EndorsementList,
    summary="Endorsements your institution signed",
)
async def signed(graph: GraphDep, caller: Reader) -> EndorsementList:
    """Newest first, with their state at the endorsed institution."""
    return EndorsementList(
        items=[_view(d) for d in await graph.endorsements.signed_by(caller.tenant)]
    )


@router.get(
    "/achievements/{achievement_id}/endorsements",
    response_model=EndorsementList,
    responses={404: {"description": "No such achievement here"}},
    summary="Endorsements offered for one of your achievements",
)
async def offered(
    achievement_id: AchievementId, graph: GraphDep, caller: Reader
) -> EndorsementList:
    """Pending, accepted and rejected endorsements, newest first."""
    docs = await graph.endorsements.offered_to(caller.tenant, achievement_id)
    return EndorsementList(items=[_view(d) for d in docs])


@router.post(
    "/achievements/{achievement_id}/endorsements/{endorsement_id}/accept",
    response_model=EndorsementView,
    responses=DECIDED,
    summary="Attach an endorsement to the credentials issued from now on",
)
async def accept(
    achievement_id: AchievementId,
    endorsement_id: EndorsementId,
    graph: GraphDep,
    caller: Manager,
) -> EndorsementView:
    """Credentials issued afterwards from the endorsed version embed it."""
    doc = await graph.endorsements.decide(
        caller.tenant, achievement_id, endorsement_id, accept=True
    )
    return _view(doc)


@router.post(
    "/achievements/{achievement_id}/endorsements/{endorsement_id}/reject",
    response_model=EndorsementView,
    responses=DECIDED,
    summary="Refuse an endorsement (it is never attached)",
)
async def reject(
    achievement_id: AchievementId,
    endorsement_id: EndorsementId,
    graph: GraphDep,
    caller: Manager,
) -> EndorsementView:
    """The endorsement stays recorded as rejected."""
    doc = await graph.endorsements.decide(
        caller.tenant, achievement_id, endorsement_id, accept=False
    )
    return _view(doc)

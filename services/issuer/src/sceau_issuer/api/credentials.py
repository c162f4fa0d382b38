"""Issuing, listing, status changes and re-issue."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from sceau_credentials.ob3.identity import normalize_email
from sceau_issuer.api.deps import (
    AUTH_RESPONSES,
    Caller,
    GraphDep,
    IdempotencyKey,
    IssuerCaller,
    PagingDep,
    Reader,
    Revoker,
)
from sceau_issuer.api.views import credential_detail, credential_summary
from sceau_issuer.apikeys.service import Scope
from sceau_issuer.errors import CredentialNotFound
from sceau_issuer.graph import IssuerGraph
from sceau_issuer.issuing.repository import CredentialQuery
from sceau_issuer.schemas import (
    BulkStatusRequest,
    BulkStatusResult,
    ConsentView,
    CredentialDetail,
    CredentialList,
    CredentialSummary,
    IssueRequest,
    ReissueRequest,
    StatusChangeRequest,
    StatusChangeResult,
)
from sceau_issuer.status.schemas import StatusAction

router = APIRouter(prefix="/v1/credentials", tags=["credentials"], responses=AUTH_RESPONSES)

CredentialId = Annotated[
    str, Path(min_length=1, max_length=80, pattern=r"^(urn:uuid:)?[0-9a-fA-F-]{32,36}$")
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such credential here"}}


@router.post(
    "",
    status_code=201,
    response_model=CredentialDetail,
    response_model_exclude_unset=True,
    responses={
        200: {
            "model": CredentialDetail,
            "description": "Replay of an earlier request with the same Idempotency-Key",
        },
        404: {"description": "No such published achievement here"},
        409: {"description": "The recipient already holds this achievement version"},
    },
    summary="Issue one credential",
)
async def issue_credential(
    body: IssueRequest,
    idempotency_key: IdempotencyKey,
    response: Response,
    graph: GraphDep,
    caller: IssuerCaller,
) -> CredentialDetail:
    """Sign and store one credential; the learner is notified with a claim link."""
    # Written together with the other issues in flight (issuing/group_commit.py).
    doc, replayed = await graph.collector.issue(
        caller.tenant, body, idempotency_key=idempotency_key
    )
    if replayed:
        response.status_code = 200
    # On a replay too: the first attempt may have stored the component and then failed before
    # its award marker was written (issue 18, item 6), and nothing else would run the step. The
    # step is idempotent (the overall credential's own idempotency key), so a replay of a
    # request whose step ran issues nothing more.
    await graph.series.after_issue(
        caller.tenant.institution_id, doc["achievement_id"], [doc["recipient"]]
    )
    return credential_detail(graph.issuing, doc)


@router.get(
    "",
    response_model=CredentialList,
    response_model_exclude_unset=True,
    summary="List and filter credentials",
)
async def list_credentials(
    graph: GraphDep,
    caller: Reader,
    paging: PagingDep,
    achievement_id: Annotated[str | None, Query(max_length=64)] = None,
    achievement_version: Annotated[int | None, Query(ge=1, le=1_000_000)] = None,
    status: Literal["active", "suspended", "revoked"] | None = None,
    batch_id: Annotated[str | None, Query(max_length=64)] = None,
    recipient_email: Annotated[str | None, Query(max_length=320)] = None,
    issued_after: datetime | None = None,
    issued_before: datetime | None = None,
) -> CredentialList:
    """Credentials of the calling institution, newest first."""
    selection = CredentialQuery(
        institution_id=caller.tenant.institution_id,
        achievement_id=achievement_id,
        achievement_version=achievement_version,
        status=status,
        batch_id=batch_id,
        recipient_email_norm=normalize_email(recipient_email) if recipient_email else None,
        issued_after=issued_after,
        issued_before=issued_before,
    )
    docs, total = await graph.credentials.page(selection, skip=paging.skip, limit=paging.page_size)
    return CredentialList(
        items=[credential_summary(d) for d in docs],
        page=paging.page,
        page_size=paging.page_size,
        total=total,
    )


@router.get(
    "/{credential_id}",
    response_model=CredentialDetail,
    response_model_exclude_unset=True,
    responses=NOT_FOUND,
    summary="Fetch a credential",
)
async def get_credential(
    credential_id: CredentialId, graph: GraphDep, caller: Reader
) -> CredentialDetail:
    """The stored record with its signed document, a fresh claim link and the consent."""
    doc = await graph.issuing.get(caller.tenant.institution_id, credential_id)
    detail = credential_detail(graph.issuing, doc)
    consent = await graph.learners.consent_of(caller.tenant.institution_id, doc["_id"])
    return detail.model_copy(update={"consent": ConsentView.model_validate(consent)})


async def _change(
    graph: IssuerGraph,
    caller: Caller,
    credential_id: str,
    action: StatusAction,
    body: StatusChangeRequest,
) -> CredentialSummary:
    doc = await graph.status.change(
        caller.tenant, credential_id, action, body.reason_code, note=body.note
    )
    return credential_summary(doc)


STATUS_RESPONSES: dict[int | str, dict[str, Any]] = {
    **NOT_FOUND,
    409: {"description": "Transition not allowed (revocation is final)"},
}


@router.post(
    "/{credential_id}/revoke",
    response_model=CredentialSummary,
    response_model_exclude_unset=True,
    responses=STATUS_RESPONSES,
    summary="Revoke (final)",
)
async def revoke(
    credential_id: CredentialId,
    body: StatusChangeRequest,
    graph: GraphDep,
    caller: Revoker,
) -> CredentialSummary:
    """Revocation cannot be undone."""
    return await _change(graph, caller, credential_id, StatusAction.REVOKE, body)


@router.post(
    "/{credential_id}/suspend",
    response_model=CredentialSummary,
    response_model_exclude_unset=True,
    responses=STATUS_RESPONSES,
    summary="Suspend",
)
async def suspend(
    credential_id: CredentialId,
    body: StatusChangeRequest,
    graph: GraphDep,
    caller: Revoker,
) -> CredentialSummary:
    """A suspended credential fails verification until reinstated."""
    return await _change(graph, caller, credential_id, StatusAction.SUSPEND, body)


@router.post(
    "/{credential_id}/reinstate",
    response_model=CredentialSummary,
    response_model_exclude_unset=True,
    responses=STATUS_RESPONSES,
    summary="Reinstate",
)
async def reinstate(
    credential_id: CredentialId,
    body: StatusChangeRequest,
    graph: GraphDep,
    caller: Revoker,
) -> CredentialSummary:
    """Lift a suspension."""
    return await _change(graph, caller, credential_id, StatusAction.REINSTATE, body)


@router.post(
    "/status",
    response_model=BulkStatusResult,
    response_model_exclude_unset=True,
    summary="Change the status of many credentials (ids or filter)",
)
async def bulk_status(
    body: BulkStatusRequest, graph: GraphDep, caller: Revoker
) -> BulkStatusResult:
    """One result per credential; the affected lists are re-signed once for the whole burst."""
    results = await graph.status.change_many(
        caller.tenant,
        body.action,
        body.reason_code,
        ids=body.credential_ids,
        flt=body.filter,
        note=body.note,
    )
    return BulkStatusResult(
        results=[StatusChangeResult.model_validate(r) for r in results],
        changed=sum(1 for r in results if r["ok"]),
        refused=sum(1 for r in results if not r["ok"]),
    )


@router.post(
    "/{credential_id}/reissue",
    status_code=201,
    response_model=CredentialDetail,
    response_model_exclude_unset=True,
    responses={
        **STATUS_RESPONSES,
        200: {"model": CredentialDetail, "description": "Replay (same Idempotency-Key)"},
    },
    summary="Re-issue a corrected or renewed credential that supersedes this one",
)
async def reissue(
    credential_id: CredentialId,
    body: ReissueRequest,
    idempotency_key: IdempotencyKey,
    response: Response,
    graph: GraphDep,
    caller: IssuerCaller,
) -> CredentialDetail:
    """Correction revokes the old credential (reason superseded); renewal only supersedes it."""
    if body.mode == "correction":
        caller.principal.require(Scope.REVOKE)
    doc, replayed = await graph.status.reissue(
        caller.tenant, credential_id, body, idempotency_key=idempotency_key
    )
    if replayed:
        response.status_code = 200
    return credential_detail(graph.issuing, doc)


public = APIRouter(prefix="/v1/public/credentials", tags=["public"])

SUPERSESSION_ANSWER: dict[str, Any] = {
    "type": "object",
    "required": ["credential_id", "issuer_did", "superseded_by"],
    "properties": {
        "credential_id": {"type": "string", "description": "urn:uuid:… of the old credential"},
        "issuer_did": {"type": "string"},
        "superseded_by": {"type": "string", "description": "urn:uuid:… of its replacement"},
        "superseded_at": {"type": ["string", "null"], "format": "date-time"},
        "revoked": {"type": "boolean", "description": "Revoked too (a correction)"},
    },
}


@public.get(
    "/{credential_id}/supersession",
    responses={
        200: {
            "description": "The credential was re-issued",
            "content": {"application/json": {"schema": SUPERSESSION_ANSWER}},
        },
        404: {"description": "Unknown, or never superseded (the same answer for both)"},
        429: {"description": "Too many requests"},
    },
    summary="Which credential replaces this one (public; the verifier's R52 notice)",
)
async def supersession(
    credential_id: CredentialId, request: Request, graph: GraphDep
) -> dict[str, Any]:
    """Answer only for a superseded credential: an unknown id and a current one look alike.

    The verifier asks after a credential's proof passed; the answer names the replacement's id,
    never its content, and the issuer's DID so the verifier can match it with the credential's.
    """
    graph.share_limiter.check(request.client.host if request.client else "unknown")
    doc = await graph.credentials.by_id(credential_id.removeprefix("urn:uuid:").lower())
    if doc is None or not doc.get("superseded_by"):
        raise CredentialNotFound("no re-issue is recorded for this credential")
    changed = doc.get("superseded_at") or doc.get("status_changed_at")
    return {
        "credential_id": f"urn:uuid:{doc['_id']}",
        "issuer_did": doc["issuer_did"],
        "superseded_by": f"urn:uuid:{str(doc['superseded_by']).removeprefix('urn:uuid:')}",
        "superseded_at": changed.isoformat() if isinstance(changed, datetime) else None,
        "revoked": doc.get("status") == "revoked",
    }

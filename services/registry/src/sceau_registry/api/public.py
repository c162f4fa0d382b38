"""Public, read-only HTTP API: trust answers, institutions, DID documents, trust list, status lists.

Only GET (and HEAD) routes exist here, so any write method answers 405. Every route is rate
limited per client. Hot documents (status lists, trust answers) are returned as stored bytes with
no re-serialization through response models; the OpenAPI schema still documents their shape.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query
from fastapi.responses import Response

from sceau_registry.api.deps import (
    PROBLEM_RESPONSE,
    PROBLEMS,
    GraphDep,
    InstitutionIdPath,
    rate_limit,
)
from sceau_registry.errors import (
    DidDocumentNotFound,
    InstitutionNotFound,
    MalformedDid,
    StatusListNotFound,
    TrustListUnavailable,
)
from sceau_registry.institutions.models import is_did
from sceau_registry.schemas import (
    Category,
    DccRegistry,
    InstitutionList,
    InstitutionView,
    IssuerAnswerView,
    UtcDatetime,
)
from sceau_registry.status_lists.service import etag_matches
from sceau_shared.errors import BadRequest
from sceau_shared.events import InstitutionStatus, utcnow

__all__ = ["router"]

JSON = "application/json"
DID_JSON = "application/did+json"

router = APIRouter(dependencies=[Depends(rate_limit)], responses=PROBLEMS)
"""Routes anyone may call."""


@router.get(
    "/v1/issuers/{did}",
    tags=["trust"],
    summary="Was this DID an accredited issuer at a date?",
    response_model=IssuerAnswerView,
    response_class=Response,
    responses={200: {"model": IssuerAnswerView, "content": {JSON: {}}}},
)
async def get_issuer(
    graph: GraphDep,
    did: Annotated[str, Path(max_length=2048)],
    at: Annotated[UtcDatetime | None, Query(description="RFC 3339; default now")] = None,
    verification_method: Annotated[str | None, Query(max_length=4096)] = None,
) -> Response:
    """Answer as of ``at`` (e.g. a credential's issuance date); unknown DIDs are not errors."""
    if not is_did(did):
        raise MalformedDid(f"{did!r} is not a DID")
    if verification_method is not None and not verification_method.startswith(did + "#"):
        raise BadRequest("verification_method must be a DID URL of this DID (did#fragment)")
    body = await graph.trust.issuer(did, at=at, verification_method=verification_method)
    return Response(body, media_type=JSON)


@router.get(
    "/v1/status-lists/{list_id}",
    tags=["status lists"],
    summary="The newest signed status list credential",
    response_class=Response,
    responses={
        200: {"description": "Signed status list credential", "content": {JSON: {}}},
        304: {"description": "Not modified (If-None-Match matched the ETag)"},
    },
)
async def get_status_list(
    graph: GraphDep,
    list_id: Annotated[str, Path(pattern=r"^[A-Za-z0-9._~-]{1,200}$")],
    if_none_match: Annotated[str | None, Header(max_length=8192)] = None,
) -> Response:
    """Serve the stored bytes with a strong ETag; never re-signs."""
    document = await graph.status_lists.get(list_id)
    if document is None:
        raise StatusListNotFound(f"no status list {list_id!r}")
    headers = {
        "ETag": document.etag,
        "Cache-Control": f"public, max-age={document.max_age_s}",
    }
    if etag_matches(if_none_match, document.etag):
        return Response(status_code=304, headers=headers)
    return Response(document.body, media_type=JSON, headers=headers)


@router.get(
    "/v1/institutions",
    tags=["institutions"],
    summary="Registered institutions",
    response_model=InstitutionList,
)
async def list_institutions(
    graph: GraphDep,
    status: InstitutionStatus | None = None,
    category: Category | None = None,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
    page_size: Annotated[int, Query(ge=1, le=200)] = 50,
) -> InstitutionList:
    """Filter by current status, category and a name/id search; paginated."""
    found = await graph.trust.page(
        status=status, category=category, q=q, page=page, page_size=page_size
    )
    now = utcnow()
    return InstitutionList(
        items=[InstitutionView.of(inst, now) for inst in found.items],
        page=page,
        page_size=page_size,
        total=found.total,
    )


@router.get(
    "/v1/institutions/{institution_id}",
    tags=["institutions"],
    summary="One institution",
    response_model=InstitutionView,
)
async def get_institution(graph: GraphDep, institution_id: InstitutionIdPath) -> InstitutionView:
    """The public record of one institution."""
    inst = await graph.trust.get(institution_id)
    if inst is None:
        raise InstitutionNotFound(f"no institution {institution_id!r}")
    return InstitutionView.of(inst, utcnow())


@router.get(
    "/v1/trust-list",
    tags=["trust"],
    summary="Signed trust list (a credential issued by the registry's DID)",
    response_class=Response,
    responses={
        200: {"description": "Signed credential", "content": {JSON: {}}},
        304: {"description": "Not modified"},
        503: {"description": "Not signed yet", **PROBLEM_RESPONSE},
    },
)
async def get_trust_list(
    graph: GraphDep, if_none_match: Annotated[str | None, Header(max_length=8192)] = None
) -> Response:
    """The last signed trust list, as stored."""
    stored = await graph.trust_list.current()
    if stored is None:
        raise TrustListUnavailable("the trust list has not been signed yet; retry shortly")
    headers = {"ETag": stored.etag, "Cache-Control": "public, max-age=300"}
    if etag_matches(if_none_match, stored.etag):
        return Response(status_code=304, headers=headers)
    return Response(stored.body, media_type=JSON, headers=headers)


@router.get(
    "/v1/trust-list/dcc",
    tags=["trust"],
    summary="Accredited institutions in the DCC known-DID registry shape",
    response_model=DccRegistry,
    response_class=Response,
    responses={200: {"model": DccRegistry, "content": {JSON: {}}}},
)
async def get_dcc_registry(graph: GraphDep) -> Response:
    """Point the Learner Credential Wallet or VerifierPlus here as a ``dcc-legacy`` registry."""
    body = await graph.trust.dcc_export()
    return Response(body, media_type=JSON, headers={"Cache-Control": "public, max-age=300"})


@router.get(
    "/institutions/{institution_id}/did.json",
    tags=["dids"],
    summary="DID document of an institution hosted by the registry",
    response_class=Response,
    responses={200: {"description": "DID document", "content": {DID_JSON: {}}}},
)
async def get_hosted_did(graph: GraphDep, institution_id: InstitutionIdPath) -> Response:
    """Rotated keys included (old credentials still verify), revoked keys left out."""
    body = await graph.trust.hosted_document(institution_id)
    if body is None:
        raise DidDocumentNotFound(f"no hosted DID document for {institution_id!r}")
    return Response(body, media_type=DID_JSON)


@router.get(
    "/.well-known/did.json",
    tags=["dids"],
    summary="The registry's own DID document",
    response_class=Response,
    responses={200: {"description": "DID document", "content": {DID_JSON: {}}}},
)
async def get_registry_did(graph: GraphDep) -> Response:
    """The key the registry signs its trust list with."""
    return Response(graph.did_document, media_type=DID_JSON)

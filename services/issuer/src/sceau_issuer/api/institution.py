"""The calling institution: its profile, keys (rotation, revocation) and aggregate reports."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from sceau_issuer.api.deps import AUTH_RESPONSES, Caller, GraphDep, Manager, Reader
from sceau_issuer.schemas import (
    AccreditationView,
    AchievementCounts,
    DidDocument,
    InstitutionView,
    KeyRevocation,
    KeyView,
    ReportSummary,
)
from sceau_issuer.tenants.accreditation import Accreditation, scope_view
from sceau_issuer.tenants.dids import own_domain_document
from sceau_issuer.tenants.models import KeyRecord

router = APIRouter(prefix="/v1/institution", tags=["institution"], responses=AUTH_RESPONSES)


class DidDocumentResponse(JSONResponse):
    """A DID document, served with its own media type."""

    media_type = "application/did+ld+json"


def _accreditation(record: Accreditation | None) -> AccreditationView | None:
    if record is None:
        return None
    return AccreditationView(
        status=record.status,
        scopes=[scope_view(s) for s in record.scopes],
        effective_at=record.effective_at.isoformat(),
    )


def _key(key: KeyRecord) -> KeyView:
    return KeyView.model_validate(key.public_view())


def _profile(caller: Caller, record: Accreditation | None) -> InstitutionView:
    tenant = caller.tenant
    return InstitutionView(
        institution_id=tenant.institution_id,
        name=tenant.name.model_dump(),
        languages=tenant.languages,
        bilingual=tenant.bilingual,
        did=tenant.did,
        did_method=tenant.did_method,
        status=tenant.status,
        active_key_id=tenant.active_key_id,
        keys=[_key(k) for k in tenant.keys],
        accreditation=_accreditation(record),
    )


@router.get(
    "", response_model=InstitutionView, summary="The calling institution and its public keys"
)
async def institution(graph: GraphDep, caller: Reader) -> InstitutionView:
    """Never includes private key material.

    ``accreditation`` is the latest the registry announced (status and scopes; issuing is refused
    outside them), ``null`` before the first one.
    """
    record = await graph.tenants.accreditation(caller.tenant.institution_id)
    return _profile(caller, record)


@router.get(
    "/did.json",
    summary="The DID document to host at https://<domain>/.well-known/did.json",
    response_class=DidDocumentResponse,
    response_model=DidDocument,
    responses={
        200: {"description": "The DID document (save it as did.json on the domain)"},
        409: {"description": "The institution's DID is a did:key or registry-hosted"},
    },
)
async def did_document(caller: Manager) -> DidDocumentResponse:
    """For an institution whose DID is a did:web on its own domain.

    Lists every verification method of the DID except revoked keys (rotated keys stay, for
    ``assertionMethod``, so earlier credentials keep verifying). Publish it again after every
    key rotation or revocation. ``Sceau-Did-Document-Url`` names where it must be served.
    """
    document, url = own_domain_document(caller.tenant)
    return DidDocumentResponse(
        document,
        headers={
            "Sceau-Did-Document-Url": url,
            "Content-Disposition": 'attachment; filename="did.json"',
        },
    )


@router.post("/keys/rotate", response_model=KeyView, summary="Rotate the signing key")
async def rotate_key(graph: GraphDep, caller: Manager) -> KeyView:
    """A new key signs from now on; the old one stays published for earlier credentials."""
    return _key(await graph.tenants.rotate(caller.tenant.institution_id))


@router.post(
    "/keys/{key_id}/revoke",
    response_model=KeyView,
    responses={404: {"description": "No such key"}, 409: {"description": "Already revoked"}},
    summary="Revoke a compromised key as of a date",
)
async def revoke_key(
    key_id: Annotated[str, Path(min_length=1, max_length=20, pattern=r"^k[0-9]+$")],
    body: KeyRevocation,
    graph: GraphDep,
    caller: Manager,
) -> KeyView:
    """Revoking the active key also makes a new one active."""
    return _key(await graph.tenants.revoke(caller.tenant.institution_id, key_id, body.as_of))


@router.get(
    "/reports/summary",
    response_model=ReportSummary,
    tags=["reports"],
    summary="Aggregate counts per achievement",
)
async def summary(graph: GraphDep, caller: Reader) -> ReportSummary:
    """Counts only, with small cells suppressed (no per-learner analytics)."""
    threshold = graph.settings.small_cell_threshold
    rows = await graph.credentials.count_by(caller.tenant.institution_id)
    per: dict[str, dict[str, int | None]] = {}
    for row in rows:
        key = row["_id"]
        n = int(row["n"])
        per.setdefault(key["achievement_id"], {})[key["status"]] = n if n >= threshold else None
    return ReportSummary(
        suppression_threshold=threshold,
        generated_at=datetime.now().astimezone().isoformat(),
        achievements=[
            AchievementCounts(achievement_id=a, counts=c) for a, c in sorted(per.items())
        ],
    )

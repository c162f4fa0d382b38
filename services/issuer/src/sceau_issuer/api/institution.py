"""The calling institution: its profile, keys (rotation, revocation) and aggregate reports."""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from sceau_issuer.api.deps import AUTH_RESPONSES, Caller, GraphDep, Manager, Reader
from sceau_issuer.errors import SettingsInvalid, SettingsMalformed
from sceau_issuer.schemas import (
    AccreditationView,
    AchievementCounts,
    DidDocument,
    InstitutionSettingsUpdate,
    InstitutionSettingsView,
    InstitutionView,
    KeyRevocation,
    KeyView,
    ReportSummary,
)
from sceau_issuer.tenants.accreditation import Accreditation, scope_view
from sceau_issuer.tenants.dids import own_domain_document
from sceau_issuer.tenants.models import InstitutionSettings, JwtAlgorithm, KeyRecord

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


def _settings(settings: InstitutionSettings) -> InstitutionSettingsView:
    return InstitutionSettingsView(
        suspension=settings.suspension,
        jwt_algorithm=settings.jwt_algorithm.value,
        selective_disclosure=settings.selective_disclosure,
        updated_at=settings.updated_at,
    )


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
        active_p256_key_id=tenant.active_p256_key_id,
        keys=[_key(k) for k in tenant.keys],
        accreditation=_accreditation(record),
        settings=_settings(tenant.settings),
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


@router.post("/keys/rotate", response_model=KeyView, summary="Rotate the signing keys")
async def rotate_key(
    graph: GraphDep,
    caller: Manager,
    key_type: Annotated[
        Literal["all", "Ed25519", "P-256"],
        Query(description="Which keys: all (default: Ed25519 and P-256 together) or one type"),
    ] = "all",
) -> KeyView:
    """New keys sign from now on; the old ones stay published for earlier credentials.

    By default every signing key of the institution is renewed (Ed25519 and, for a did:web
    institution, P-256), as a scheduled rotation expects. The answer is the new Ed25519 key
    (the new P-256 key when only that one rotated); ``GET /v1/institution`` lists them all.
    """
    key = await graph.tenants.rotate(caller.tenant.institution_id, key_type)
    graph.publisher.wake()  # the lists are re-signed by the new key now, not at the next poll
    return _key(key)


@router.post(
    "/keys/{key_id}/revoke",
    response_model=KeyView,
    responses={404: {"description": "No such key"}, 409: {"description": "Already revoked"}},
    summary="Revoke a compromised key as of a date",
)
async def revoke_key(
    key_id: Annotated[str, Path(min_length=1, max_length=20, pattern=r"^[kp][0-9]+$")],
    body: KeyRevocation,
    graph: GraphDep,
    caller: Manager,
) -> KeyView:
    """Revoking an active key also makes a new one of its type active.

    ``k…`` keys are Ed25519, ``p…`` keys P-256.
    """
    revoked = await graph.tenants.revoke(caller.tenant.institution_id, key_id, body.as_of)
    graph.publisher.wake()  # lists the revoked key signed are signed again now
    return _key(revoked)


@router.get(
    "/settings",
    response_model=InstitutionSettingsView,
    summary="The institution's settings (suspension of credentials)",
)
async def settings(caller: Reader) -> InstitutionSettingsView:
    """``suspension`` is off unless the institution turned it on (``PUT`` below)."""
    return _settings(caller.tenant.settings)


_SETTINGS_BODY: dict[str, Any] = {
    "required": True,
    "content": {"application/json": {"schema": InstitutionSettingsUpdate.model_json_schema()}},
}


async def _settings_body(request: Request) -> InstitutionSettingsUpdate:
    """Read the settings body, refusing it with French and English problem details.

    Read here rather than by FastAPI so that a refusal explains itself in both languages.
    """
    try:
        data = json.loads(await request.body())
    except (ValueError, RecursionError) as exc:
        raise SettingsMalformed(
            "the body is not a JSON document",
            extra={
                "detail_en": 'the body is not a JSON document; send {"suspension": true} or '
                '{"suspension": false}',
                "detail_fr": "le corps de la requête n'est pas un document JSON ; envoyez "
                '{"suspension": true} ou {"suspension": false}',
            },
        ) from exc
    try:
        return InstitutionSettingsUpdate.model_validate(data)
    except ValidationError as exc:
        errors: list[dict[str, object]] = [
            {
                "in": "body",
                "pointer": "/" + "/".join(str(part) for part in error["loc"]),
                "field": ".".join(str(part) for part in error["loc"]),
                "message": error["msg"],
                "code": error["type"],
            }
            for error in exc.errors(include_url=False, include_input=False)
        ]
        raise SettingsInvalid(
            f"{len(errors)} setting(s) failed validation",
            errors=errors,
            extra={
                "detail_en": "the settings must be a JSON object with the field "
                '"suspension", true or false, and optionally "jwt_algorithm", '
                '"ES256" or "EdDSA", and "selective_disclosure", true or false',
                "detail_fr": "les réglages doivent être un objet JSON avec le champ "
                "« suspension », valant true ou false, et facultativement "
                "« jwt_algorithm », valant « ES256 » ou « EdDSA », et "
                "« selective_disclosure », valant true ou false",
            },
        ) from exc


@router.put(
    "/settings",
    response_model=InstitutionSettingsView,
    openapi_extra={"requestBody": _SETTINGS_BODY},
    responses={
        400: {"description": "The body is not JSON (problem details, FR/EN)"},
        422: {"description": "Unknown, missing or non-boolean setting (problem details, FR/EN)"},
    },
    summary="Turn suspension of credentials on or off",
)
async def update_settings(
    request: Request, graph: GraphDep, caller: Manager
) -> InstitutionSettingsView:
    """Off by default, so that every credential passes 1EdTech's Open Badges 3.0 JSON Schema.

    Turned on, the ``ob3-v2`` and ``jwt`` credentials signed from then on carry a suspension
    entry beside the revocation one (a two-entry ``credentialStatus`` array), so they can be
    suspended and reinstated; the official schema allows one entry, so those credentials fail
    it. Credentials already issued keep their entries either way: suspending one without a
    suspension entry is a 409. ``ob3-v1`` credentials (and ``jwt`` ones issued before 2026-12)
    carry one entry whatever this says. Repeating the current setting changes nothing.
    """
    body = await _settings_body(request)
    return _settings(
        await graph.tenants.update_settings(
            caller.tenant.institution_id,
            suspension=body.suspension,
            jwt_algorithm=JwtAlgorithm(body.jwt_algorithm) if body.jwt_algorithm else None,
            selective_disclosure=body.selective_disclosure,
        )
    )


@router.get(
    "/reports/summary",
    response_model=ReportSummary,
    tags=["reports"],
    summary="Aggregate counts per achievement",
)
async def summary(graph: GraphDep, caller: Reader) -> ReportSummary:
    """Counts only, small cells suppressed: the per-achievement cells of ``GET /v1/insights``.

    Issued, accepted, shared, verified (at least once), verifications and revoked, read from
    the insights counters by primary key (no scan of the credentials), with the same
    suppression (a cell hidden there is hidden here).
    """
    report = await graph.insights.report(caller.tenant.institution_id)
    return ReportSummary(
        suppression_threshold=report.suppression.k,
        generated_at=report.generated_at,
        achievements=[
            AchievementCounts(achievement_id=a.achievement_id, counts=a.counts)
            for a in sorted(report.achievements, key=lambda a: a.achievement_id)
        ],
    )

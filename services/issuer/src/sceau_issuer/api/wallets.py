"""Wallet endpoints (public; rate-limited): OpenID4VCI 1.0 and the VC-API exchange.

Metadata is served at the well-known location 1.0 prescribes (``/.well-known/...`` inserted
before the issuer identifier's path) and, for wallets written against earlier drafts, appended
to the identifier. Wallet-facing refusals are OAuth-style JSON (``error``,
``error_description``, raised as :class:`WalletProtocolError` and answered by the handler
``app.py`` installs); an unknown institution or offer is a problem-details 404. The VC-API
exchange (``/vcapi/...``) answers in problem details, as VC-API services do.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Annotated, Any
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, Header, Path, Request
from fastapi.responses import JSONResponse

from sceau_issuer.api.deps import GraphDep
from sceau_issuer.errors import WalletPresentationInvalid
from sceau_issuer.learners.privacy import redact_span
from sceau_issuer.wallets.oauth_errors import WalletProtocolError, invalid_request

router = APIRouter(tags=["wallets (OpenID4VCI)"])
offers = APIRouter(tags=["wallets (OpenID4VCI)"], dependencies=[Depends(redact_span)])

InstitutionId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._-]+$")]
Endpoint = Callable[..., Awaitable[JSONResponse]]
MAX_BODY = 16_384
NO_STORE = {"Cache-Control": "no-store"}
_ERROR = {"description": "OAuth / OpenID4VCI error: {error, error_description} (application/json)"}
TOKEN_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/x-www-form-urlencoded": {
                "schema": {
                    "type": "object",
                    "required": ["grant_type", "pre-authorized_code"],
                    "properties": {
                        "grant_type": {"type": "string"},
                        "pre-authorized_code": {"type": "string"},
                        "tx_code": {"type": "string"},
                    },
                }
            }
        },
    }
}
CREDENTIAL_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "credential_configuration_id": {"type": "string"},
                        "proofs": {
                            "type": "object",
                            "properties": {"jwt": {"type": "array", "items": {"type": "string"}}},
                        },
                    },
                }
            }
        },
    }
}
EXCHANGE_REQUEST: dict[str, Any] = {
    "requestBody": {
        "required": False,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "description": "{} to start; then {verifiablePresentation: a DIDAuth VP}",
                    "properties": {"verifiablePresentation": {"type": "object"}},
                }
            }
        },
    }
}


def _limit(request: Request, graph: GraphDep) -> None:
    graph.claim_limiter.check(request.client.host if request.client else "unknown")


Limited = Depends(_limit)


async def _body(request: Request) -> bytes:
    body = await request.body()
    if len(body) > MAX_BODY:
        raise invalid_request("request too large")
    return body


def _json(body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(body, headers=NO_STORE)


def _well_known(suffix: str, summary: str) -> Callable[[Endpoint], Endpoint]:
    """Serve a metadata document where 1.0 puts it and, for draft-era wallets, appended."""

    def register(endpoint: Endpoint) -> Endpoint:
        for path in (
            f"/.well-known/{suffix}/oid4vci/{{institution_id}}",
            f"/oid4vci/{{institution_id}}/.well-known/{suffix}",
        ):
            router.get(path, summary=summary, dependencies=[Limited])(endpoint)
        return endpoint

    return register


@_well_known("openid-credential-issuer", "Credential issuer metadata (OpenID4VCI 1.0)")
async def issuer_metadata(institution_id: InstitutionId, graph: GraphDep) -> JSONResponse:
    """What the institution's credential issuer offers and where its endpoints are."""
    return JSONResponse(await graph.wallets.metadata(institution_id))


@_well_known("oauth-authorization-server", "Authorization server metadata (RFC 8414)")
async def authorization_server(institution_id: InstitutionId, graph: GraphDep) -> JSONResponse:
    """The token endpoint and the pre-authorized code grant."""
    return JSONResponse(await graph.wallets.authorization_server(institution_id))


@offers.get(
    "/oid4vci/{institution_id}/offers/{offer_id}",
    summary="A credential offer (what credential_offer_uri points to)",
    dependencies=[Limited],
)
async def credential_offer(
    institution_id: InstitutionId,
    offer_id: Annotated[str, Path(min_length=16, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")],
    graph: GraphDep,
) -> JSONResponse:
    """The offer object with its pre-authorized code; 404 once expired or taken."""
    return _json(await graph.wallets.offer(institution_id, offer_id))


@router.post(
    "/oid4vci/{institution_id}/token",
    summary="Token endpoint (pre-authorized code grant)",
    dependencies=[Limited],
    openapi_extra=TOKEN_REQUEST,
    responses={400: _ERROR},
)
async def token(institution_id: InstitutionId, request: Request, graph: GraphDep) -> JSONResponse:
    """Trade the offer's pre-authorized code (and transaction code) for an access token."""
    parsed = parse_qs((await _body(request)).decode("utf-8", errors="replace"))
    if any(len(values) > 1 for values in parsed.values()):
        raise invalid_request("a parameter is repeated")
    form = {name: values[0] for name, values in parsed.items()}
    return _json(await graph.wallets.token(institution_id, form))


@router.post("/oid4vci/{institution_id}/nonce", summary="Nonce endpoint", dependencies=[Limited])
async def nonce(institution_id: InstitutionId, graph: GraphDep) -> JSONResponse:
    """A fresh c_nonce for the proof of possession."""
    return _json(await graph.wallets.nonce(institution_id))


@router.post(
    "/oid4vci/{institution_id}/credential",
    summary="Credential endpoint (Bearer access token, JWT proof)",
    dependencies=[Limited],
    openapi_extra=CREDENTIAL_REQUEST,
    responses={400: _ERROR, 401: _ERROR},
)
async def credential(
    institution_id: InstitutionId,
    request: Request,
    graph: GraphDep,
    authorization: Annotated[str | None, Header()] = None,
) -> JSONResponse:
    """The learner's credential, signed now and bound to the wallet's DID (once per offer)."""
    scheme, _, access_token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer":
        access_token = ""
    try:
        parsed = json.loads(await _body(request))
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise WalletProtocolError("invalid_credential_request", "the body must be a JSON object")
    return _json(await graph.wallets.credential(institution_id, access_token.strip(), parsed))


exchanges = APIRouter(tags=["wallets (VC-API exchange)"], dependencies=[Depends(redact_span)])


@exchanges.post(
    "/vcapi/{institution_id}/exchanges/{exchange_id}",
    summary="A wallet offer's VC-API exchange (DIDAuth, then the credential)",
    dependencies=[Limited],
    openapi_extra=EXCHANGE_REQUEST,
    responses={
        400: {"description": "the presentation does not check out (problem details)"},
        404: {"description": "unknown exchange (problem details)"},
        410: {"description": "expired, or already taken by a wallet (problem details)"},
    },
)
async def exchange(
    institution_id: InstitutionId,
    exchange_id: Annotated[str, Path(min_length=20, max_length=128, pattern=r"^[A-Za-z0-9_.-]+$")],
    request: Request,
    graph: GraphDep,
) -> JSONResponse:
    """``{}`` gets the DIDAuth request; the holder's signed presentation gets the credential."""
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise WalletPresentationInvalid("request too large")
    try:
        parsed = json.loads(raw) if raw.strip() else {}
    except ValueError:
        parsed = None
    if not isinstance(parsed, dict):
        raise WalletPresentationInvalid("the body must be a JSON object")
    return _json(await graph.exchanges.exchange(institution_id, exchange_id, parsed))
